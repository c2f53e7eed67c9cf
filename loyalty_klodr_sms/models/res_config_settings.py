from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Same definition as sms_twilio's (both addons may be installed).
    sms_provider = fields.Selection(related="company_id.sms_provider", readonly=False)
    klodr_sms_twilio_installed = fields.Boolean(string="Twilio SMS Installed",
                                                compute="_compute_klodr_sms_twilio_installed")
    sms_dlt_url = fields.Char(related="company_id.sms_dlt_url", readonly=False)
    sms_dlt_method = fields.Selection(related="company_id.sms_dlt_method", readonly=False)
    sms_dlt_auth_in = fields.Selection(related="company_id.sms_dlt_auth_in", readonly=False)
    sms_dlt_auth_name = fields.Char(related="company_id.sms_dlt_auth_name", readonly=False)
    sms_dlt_auth_value = fields.Char(related="company_id.sms_dlt_auth_value", readonly=False)
    sms_dlt_sender_id = fields.Char(related="company_id.sms_dlt_sender_id", readonly=False)
    sms_dlt_entity_id = fields.Char(related="company_id.sms_dlt_entity_id", readonly=False)
    sms_dlt_param_to = fields.Char(related="company_id.sms_dlt_param_to", readonly=False)
    sms_dlt_param_message = fields.Char(related="company_id.sms_dlt_param_message", readonly=False)
    sms_dlt_param_sender = fields.Char(related="company_id.sms_dlt_param_sender", readonly=False)
    sms_dlt_param_entity = fields.Char(related="company_id.sms_dlt_param_entity", readonly=False)
    sms_dlt_param_template = fields.Char(related="company_id.sms_dlt_param_template", readonly=False)
    sms_dlt_extra_params = fields.Char(related="company_id.sms_dlt_extra_params", readonly=False)
    sms_dlt_unicode_params = fields.Char(related="company_id.sms_dlt_unicode_params", readonly=False)
    sms_dlt_number_format = fields.Selection(related="company_id.sms_dlt_number_format", readonly=False)
    sms_dlt_success_key = fields.Char(related="company_id.sms_dlt_success_key", readonly=False)
    sms_dlt_success_value = fields.Char(related="company_id.sms_dlt_success_value", readonly=False)

    @api.depends("company_id")
    def _compute_klodr_sms_twilio_installed(self):
        # sms_twilio shows its own provider radio buttons: ours then stays hidden.
        self.klodr_sms_twilio_installed = "sms_twilio_account_sid" in self.env["res.company"]._fields
