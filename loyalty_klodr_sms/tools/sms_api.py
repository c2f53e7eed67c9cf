"""The SMS providers this addon adds to Odoo's ``sms`` queue, one adapter class each
(as ``sms_twilio`` does): ``res.company._get_sms_api_class()`` returns them by ``sms_provider``."""
import logging
from urllib.parse import urlsplit

import requests

from odoo.addons.sms.tools.sms_api import SmsApiBase

from . import dlt

_logger = logging.getLogger(__name__)

# Seconds to connect, then to wait for the answer.
DLT_TIMEOUT = (5, 10)
DLT_MAX_ANSWER = 4096


class SmsApiLog(SmsApiBase):
    """Sends nothing: every message is marked delivered and kept with its text (tests, demos).

    ``KEEP_SENT`` tells ``sms.sms`` not to mark them for deletion once sent.
    """

    KEEP_SENT = True

    def _send_sms_batch(self, messages, delivery_reports_url=False):
        results = [{"uuid": number["uuid"], "state": "delivered"}
                   for message in messages for number in message.get("numbers") or []]
        _logger.info("SMS log provider: %s message(s) kept, none sent", len(results))
        return results


class SmsApiDltHttp(SmsApiBase):
    """An Indian DLT-compliant HTTP gateway configured on the company (see ``tools/dlt.py``).

    One request per message and number, with the DLT template id of the template the
    message came from (``sms.sms.dlt_template_id``). Transient failures come back with
    ``klodr_retry`` set, and ``sms.sms`` schedules another attempt.
    """

    PROVIDER_TO_SMS_FAILURE_TYPE = SmsApiBase.PROVIDER_TO_SMS_FAILURE_TYPE | {
        dlt.UNAUTHORIZED: "sms_acc",
        dlt.NOT_CONFIGURED: "sms_acc",
        dlt.REJECTED: "sms_dlt_rejected",
        dlt.NUMBER_MISSING: "sms_number_missing",
    }

    def _get_sms_api_error_messages(self):
        messages = super()._get_sms_api_error_messages()
        messages.update({
            dlt.SERVER_ERROR: self.env._("The DLT gateway is unavailable: the message will be retried."),
            dlt.UNAUTHORIZED: self.env._("The DLT gateway refused the API key."),
            dlt.NOT_CONFIGURED: self.env._("The DLT gateway is not configured (Settings, SMS)."),
            dlt.REJECTED: self.env._("The DLT gateway refused the message."),
            dlt.WRONG_NUMBER: self.env._("The number is not a valid phone number."),
            dlt.NUMBER_MISSING: self.env._("The message has no number."),
        })
        return messages

    def _send_sms_batch(self, messages, delivery_reports_url=False):
        company = (self.company or self.env.company).sudo()
        config = company._klodr_dlt_config()
        uuids = [number["uuid"] for message in messages for number in message.get("numbers") or []]
        template_ids = {
            sms["uuid"]: sms["dlt_template_id"] or None
            for sms in self.env["sms.sms"].sudo().search_read([("uuid", "in", uuids)], ["uuid", "dlt_template_id"])
        }
        results = []
        with requests.Session() as session:
            for message in messages:
                body = message.get("content") or ""
                for number in message.get("numbers") or []:
                    outcome = self._dlt_send_one(session, config, number.get("number"), body,
                                                 template_ids.get(number["uuid"]))
                    if not outcome.ok:
                        _logger.warning("DLT gateway: SMS %s not sent (%s): %s", number["uuid"], outcome.state,
                                        outcome.reason)
                    results.append({
                        "uuid": number["uuid"],
                        "state": outcome.state,
                        "failure_reason": outcome.reason or False,
                        "klodr_retry": outcome.retry,
                    })
        return results

    def _dlt_send_one(self, session, config, number, body, template_id):
        """Send one message; never raises: every failure is an :class:`dlt.Outcome`."""
        if not config.configured:
            return dlt.Outcome(dlt.NOT_CONFIGURED, "the gateway URL is not set")
        if not number:
            return dlt.Outcome(dlt.NUMBER_MISSING, "no number")
        try:
            request = dlt.build_request(config, number, body, template_id)
        except dlt.InvalidNumber:
            return dlt.Outcome(dlt.WRONG_NUMBER, "not a valid phone number")
        secrets = [body, number, request.params.get(config.param_to), (request.data or {}).get(config.param_to),
                   (request.json or {}).get(config.param_to), config.auth_value]
        host = urlsplit(request.url).netloc
        try:
            response = session.request(**request.kwargs(), timeout=DLT_TIMEOUT, allow_redirects=False)
        except requests.Timeout:
            return dlt.interpret_exception("timeout", host)
        except requests.ConnectionError:
            return dlt.interpret_exception("connection", host)
        except requests.RequestException:
            return dlt.interpret_exception("error", host)
        with response:
            text = response.text[:DLT_MAX_ANSWER]
        return dlt.interpret_response(config, response.status_code, text, secrets)
