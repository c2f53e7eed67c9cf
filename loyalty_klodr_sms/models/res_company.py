from odoo import api, fields, models

from ..tools import dlt
from ..tools.sms_api import SmsApiDltHttp, SmsApiLog

KLODR_SMS_APIS = {"log": SmsApiLog, "dlt_http": SmsApiDltHttp}


class ResCompany(models.Model):
    _inherit = "res.company"

    # Odoo's ``sms`` has no provider choice; ``sms_twilio`` adds this field with a fixed list
    # (iap, twilio). Both addons can be installed, in either order: our definition is a
    # method that offers Twilio when ``sms_twilio`` is there, and it takes over the list
    # because this addon always loads after ``sms_twilio`` (it sits deeper in the
    # dependency graph: loyalty_klodr -> portal). test_install checks the result.
    sms_provider = fields.Selection(selection="_selection_sms_provider", string="SMS Provider", default="iap")

    sms_dlt_url = fields.Char(string="DLT Gateway URL", groups="base.group_system",
                              help="The gateway's send endpoint, e.g. https://api.example.in/v1/sms/send")
    sms_dlt_method = fields.Selection(
        [("get", "GET (query string)"), ("post_form", "POST (form)"), ("post_json", "POST (JSON)")],
        string="DLT HTTP Method", default="post_form", groups="base.group_system")
    sms_dlt_auth_in = fields.Selection(
        [("header", "HTTP header"), ("param", "Request parameter"), ("none", "None")],
        string="DLT API Key Sent As", default="header", groups="base.group_system")
    sms_dlt_auth_name = fields.Char(
        string="DLT Auth Header / Parameter", default="Authorization", groups="base.group_system",
        help="Header name (Authorization, authkey, apikey...) or parameter name that carries the key.")
    sms_dlt_auth_value = fields.Char(
        string="DLT API Key", groups="base.group_system",
        help="The value sent under that name: the bare key, or a full header value such as 'Bearer xyz'.")
    sms_dlt_sender_id = fields.Char(string="DLT Sender ID (Header)", groups="base.group_system",
                                    help="The 6-character header registered on DLT, e.g. KLODRR.")
    sms_dlt_entity_id = fields.Char(string="DLT Entity ID (PE ID)", groups="base.group_system")
    sms_dlt_param_to = fields.Char(string="Parameter: Number", default="to", groups="base.group_system")
    sms_dlt_param_message = fields.Char(string="Parameter: Text", default="message", groups="base.group_system")
    sms_dlt_param_sender = fields.Char(string="Parameter: Sender ID", default="sender", groups="base.group_system")
    sms_dlt_param_entity = fields.Char(string="Parameter: Entity ID", default="entity_id",
                                       groups="base.group_system")
    sms_dlt_param_template = fields.Char(string="Parameter: Template ID", default="template_id",
                                         groups="base.group_system")
    sms_dlt_extra_params = fields.Char(
        string="DLT Extra Parameters", groups="base.group_system",
        help="Sent with every message, written key=value&key2=value2 (e.g. route=4&country=91).")
    sms_dlt_unicode_params = fields.Char(
        string="DLT Unicode Parameters", groups="base.group_system",
        help="Added when the text is not plain ASCII (Hindi...), e.g. unicode=1.")
    sms_dlt_number_format = fields.Selection(
        [("digits", "Country code without + (919845012345)"), ("e164", "E.164 (+919845012345)"),
         ("national", "National number (9845012345)")],
        string="DLT Number Format", default="digits", groups="base.group_system")
    sms_dlt_success_key = fields.Char(
        string="DLT Success Key", groups="base.group_system",
        help="A key (dotted path, e.g. data.status) of the gateway's JSON answer that tells success. "
             "Empty: any 2xx answer is a success.")
    sms_dlt_success_value = fields.Char(
        string="DLT Success Value", groups="base.group_system",
        help="The value the success key holds when the message is accepted (e.g. success). "
             "Empty: any true value.")

    @api.model
    def _selection_sms_provider(self):
        labels = {
            "iap": self.env._("Send via Odoo"),
            "twilio": self.env._("Send via Twilio"),
            "dlt_http": self.env._("Indian DLT gateway (HTTP)"),
            "log": self.env._("Log only (keep, never send)"),
        }
        twilio = "sms_twilio_account_sid" in self._fields
        return [(value, labels[value]) for value in ("iap", "twilio", "dlt_http", "log")
                if value != "twilio" or twilio]

    def _get_sms_api_class(self):
        self.ensure_one()
        return KLODR_SMS_APIS.get(self.sms_provider) or super()._get_sms_api_class()

    def _klodr_dlt_config(self):
        """The company's DLT gateway settings as the pure :class:`dlt.GatewayConfig`."""
        self.ensure_one()
        company = self.sudo()
        return dlt.GatewayConfig(
            url=company.sms_dlt_url or "",
            method=company.sms_dlt_method or "post_form",
            auth_in=company.sms_dlt_auth_in or "header",
            auth_name=company.sms_dlt_auth_name or "",
            auth_value=company.sms_dlt_auth_value or "",
            sender_id=company.sms_dlt_sender_id or "",
            entity_id=company.sms_dlt_entity_id or "",
            param_to=company.sms_dlt_param_to or "",
            param_message=company.sms_dlt_param_message or "",
            param_sender=company.sms_dlt_param_sender or "",
            param_entity=company.sms_dlt_param_entity or "",
            param_template=company.sms_dlt_param_template or "",
            extra_params=company.sms_dlt_extra_params or "",
            unicode_params=company.sms_dlt_unicode_params or "",
            number_format=company.sms_dlt_number_format or "digits",
            success_key=company.sms_dlt_success_key or "",
            success_value=company.sms_dlt_success_value or "",
        )

    def _klodr_sms_provider_ready(self):
        """Whether the company's SMS provider can send at all (checked before an OTP is promised).

        log: always; DLT: a gateway URL; Twilio: account and a number; Odoo IAP: an SMS
        account with a token (Odoo creates it on first use or when credits are bought).
        """
        self.ensure_one()
        company = self.sudo()
        provider = company.sms_provider or "iap"
        if provider == "log":
            return True
        if provider == "dlt_http":
            return company._klodr_dlt_config().configured
        if provider == "twilio":
            return bool(company.sms_twilio_account_sid and company.sms_twilio_auth_token
                        and company.sms_twilio_number_ids)
        if provider == "iap":
            accounts = self.env["iap.account"].sudo().search([
                ("service_name", "=", "sms"), "|", ("company_ids", "in", company.ids), ("company_ids", "=", False)])
            return any(account.account_token for account in accounts)
        return False
