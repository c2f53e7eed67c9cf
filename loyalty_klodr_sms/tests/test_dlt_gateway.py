import json
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import KlodrSmsCommon


@tagged("post_install", "-at_install")
class TestDltGateway(KlodrSmsCommon):
    """The DLT HTTP provider against a real HTTP server on 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template_earned.dlt_template_id = "1107170000000000001"

    def setUp(self):
        super().setUp()
        self.gateway = self.start_gateway()
        self.use_gateway(self.gateway)

    def queue(self, body="Your balance is 120 points. -KLODR", number=None):
        return self.SmsSms.create({"number": number or self.member.mobile, "body": body,
                                   "dlt_template_id": "1107170000000000009"})

    def test_post_form_request(self):
        sms = self.member._klodr_notify("earned", points=120)
        self.assertEqual(sms.dlt_template_id, "1107170000000000001", "the template's DLT id")
        self.run_queue()
        self.assertEqual(len(self.gateway.requests), 1)
        request = self.gateway.requests[0]
        self.assertEqual((request["method"], request["path"]), ("POST", "/api/v1/sms/send"))
        self.assertEqual(request["headers"]["authkey"], "KEY-5f2a9c")
        self.assertIn("application/x-www-form-urlencoded", request["headers"]["content-type"])
        self.assertEqual(request["query"], {})
        self.assertEqual(request["form"], {
            "mobiles": "919845000001",  # E.164 without '+' (the number format setting)
            "message": sms.body,
            "sender": "KLODRR",
            "PE_ID": "1201159876543210",
            "DLT_TE_ID": "1107170000000000001",
            "route": "4",
            "country": "91",
        })
        self.assertEqual(sms.state, "pending", "accepted by the gateway (Sent)")
        self.assertTrue(sms.to_delete, "sent through a real gateway, it is cleaned up like any Odoo SMS")
        self.assertEqual(sms.klodr_attempts, 1)

    def test_get_request_with_key_as_parameter(self):
        self.company.write({"sms_dlt_method": "get", "sms_dlt_auth_in": "param", "sms_dlt_auth_name": "apikey",
                            "sms_dlt_number_format": "e164", "sms_dlt_param_to": "numbers",
                            "sms_dlt_param_entity": False, "sms_dlt_extra_params": False})
        sms = self.queue()
        self.run_queue()
        request = self.gateway.requests[0]
        self.assertEqual(request["method"], "GET")
        self.assertNotIn("authkey", request["headers"])
        self.assertEqual(request["query"], {
            "numbers": "+919845000001", "message": "Your balance is 120 points. -KLODR", "sender": "KLODRR",
            "DLT_TE_ID": "1107170000000000009", "apikey": "KEY-5f2a9c"})
        self.assertEqual(sms.state, "pending")

    def test_post_json_request_national_number_and_unicode(self):
        self.company.write({"sms_dlt_method": "post_json", "sms_dlt_auth_name": "Authorization",
                            "sms_dlt_auth_value": "Bearer tok-42", "sms_dlt_number_format": "national",
                            "sms_dlt_success_key": "data.status", "sms_dlt_success_value": "ACCEPTED"})
        self.gateway.default = (200, json.dumps({"data": {"status": "accepted", "id": "m-1"}}), 0)
        sms = self.queue(body="आपके 120 अंक हैं। -KLODR")
        self.run_queue()
        request = self.gateway.requests[0]
        self.assertEqual(request["headers"]["authorization"], "Bearer tok-42")
        self.assertEqual(request["json"]["mobiles"], "9845000001")
        self.assertEqual(request["json"]["message"], "आपके 120 अंक हैं। -KLODR")
        self.assertEqual(request["json"]["unicode"], "1", "Unicode parameters for a Hindi text")
        self.assertEqual(sms.state, "pending", "the success value is compared case-insensitively")

    def test_http_500_then_retried_by_the_queue_until_the_gateway_recovers(self):
        self.gateway.answers = [(500, '{"message": "Internal error"}', 0), (503, "Service Unavailable", 0)]
        start = fields.Datetime.now()
        with freeze_time(start):
            sms = self.queue()
            self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_server"))
        self.assertEqual(sms.klodr_error_message, "HTTP 500: Internal error")
        self.assertEqual(sms.klodr_attempts, 1)
        self.assertEqual(sms.klodr_retry_at, start + timedelta(minutes=1))
        with freeze_time(start + timedelta(seconds=30)):
            self.run_queue()
        self.assertEqual(len(self.gateway.requests), 1, "not retried before its time")
        with freeze_time(start + timedelta(minutes=2)):
            self.run_queue()
        self.assertEqual((sms.state, sms.klodr_attempts), ("error", 2))
        self.assertEqual(sms.klodr_error_message, "HTTP 503: Service Unavailable")
        self.assertEqual(sms.klodr_retry_at, start + timedelta(minutes=2 + 5))
        with freeze_time(start + timedelta(minutes=8)):
            self.run_queue()
        self.assertEqual(len(self.gateway.requests), 3)
        self.assertEqual((sms.state, sms.failure_type, sms.klodr_attempts), ("pending", False, 3))
        self.assertFalse(sms.klodr_error_message)
        self.assertFalse(sms.klodr_retry_at)

    def test_retries_stop_after_the_last_attempt(self):
        self.env["ir.config_parameter"].sudo().set_param("loyalty_klodr_sms.max_attempts", "2")
        self.gateway.default = (502, "Bad Gateway", 0)
        start = fields.Datetime.now()
        with freeze_time(start):
            sms = self.queue()
            self.run_queue()
        with freeze_time(start + timedelta(minutes=2)):
            self.run_queue()
        self.assertEqual((sms.state, sms.klodr_attempts), ("error", 2))
        self.assertFalse(sms.klodr_retry_at, "no third attempt")
        with freeze_time(start + timedelta(days=1)):
            self.run_queue()
        self.assertEqual(len(self.gateway.requests), 2)

    def test_timeout(self):
        self.gateway.default = (200, '{"status": "success"}', 1.5)
        with patch("odoo.addons.loyalty_klodr_sms.tools.sms_api.DLT_TIMEOUT", (5, 0.3)):
            sms = self.queue()
            self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_server"))
        self.assertIn("no answer from the gateway in time", sms.klodr_error_message)
        self.assertTrue(sms.klodr_retry_at, "a timeout is retried")

    def test_connection_refused(self):
        closed_port = self.gateway.server.server_address[1]
        self.gateway.stop()
        self.company.sms_dlt_url = f"http://127.0.0.1:{closed_port}/send"
        sms = self.queue()
        self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_server"))
        self.assertEqual(sms.klodr_error_message, f"the gateway could not be reached (127.0.0.1:{closed_port})")
        self.assertTrue(sms.klodr_retry_at)

    def test_json_error_answer_is_a_refusal(self):
        self.gateway.default = (200, json.dumps({"status": "error", "message": "Template not approved"}), 0)
        sms = self.queue()
        self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_dlt_rejected"))
        self.assertEqual(sms.klodr_error_message, "HTTP 200: Template not approved")
        self.assertFalse(sms.klodr_retry_at, "a refusal is not retried")

    def test_answer_not_json(self):
        self.gateway.default = (200, "<html>proxy error</html>", 0)
        sms = self.queue()
        self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_server"))
        self.assertTrue(sms.klodr_retry_at)

    def test_unauthorized(self):
        self.gateway.default = (401, json.dumps({"error": {"message": "Invalid authkey"}}), 0)
        sms = self.queue()
        self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_acc"))
        self.assertEqual(sms.klodr_error_message, "HTTP 401: Invalid authkey")
        self.assertFalse(sms.klodr_retry_at)

    def test_failure_reason_redacted(self):
        # A gateway that echoes what it got: the reason kept must not copy the code, number or key.
        self.gateway.default = (500, lambda request: json.dumps({"message": f"failed: {request['raw']}"}), 0)
        sms = self.queue(body="Your Klodr Rewards OTP is 483920. Valid 5 minutes. Do not share it. -KLODR")
        self.run_queue()
        self.assertEqual(sms.state, "error")
        reason = sms.klodr_error_message
        self.assertTrue(reason.startswith("HTTP 500: failed:"))
        for secret in ("483920", "9845000001", "KEY-5f2a9c"):
            self.assertNotIn(secret, reason)

    def test_invalid_number(self):
        sms = self.queue(number="12")
        self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_number_format"))
        self.assertEqual(self.gateway.requests, [])
