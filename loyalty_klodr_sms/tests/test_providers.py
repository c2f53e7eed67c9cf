from odoo.tests import tagged

from odoo.addons.loyalty_klodr_sms.tools.sms_api import DLT_TIMEOUT, SmsApiDltHttp, SmsApiLog

from .common import KlodrSmsCommon


@tagged("post_install", "-at_install")
class TestProviders(KlodrSmsCommon):
    def test_provider_classes(self):
        self.assertIs(self.company._get_sms_api_class(), SmsApiLog)
        self.company.sms_provider = "dlt_http"
        self.assertIs(self.company._get_sms_api_class(), SmsApiDltHttp)
        self.company.sms_provider = "iap"
        self.assertNotIn(self.company._get_sms_api_class(), (SmsApiLog, SmsApiDltHttp))
        self.assertEqual(DLT_TIMEOUT, (5, 10), "connect 5 s, read 10 s")

    def test_log_provider_keeps_sent_sms_with_body(self):
        sms = self.SmsSms.create({"number": self.member.mobile, "body": "Kept by the log provider."})
        self.assertEqual(sms.state, "outgoing")
        self.assertIn(sms, self.run_queue())
        self.assertEqual(sms.state, "sent")
        self.assertEqual(sms.body, "Kept by the log provider.")
        self.assertFalse(sms.to_delete, "Odoo marks sent SMS for deletion; the log provider keeps them")
        self.assertFalse(sms.failure_type)
        self.SmsSms._gc_device()
        self.assertTrue(sms.exists(), "the autovacuum leaves log-provider messages alone")

    def test_log_provider_through_send(self):
        sms = self.SmsSms.create({"number": self.member.mobile, "body": "Sent now."})
        sms.send()
        self.assertEqual((sms.state, sms.to_delete, sms.body), ("sent", False, "Sent now."))

    def test_each_company_uses_its_provider(self):
        other = self.other_company
        other.write({"sms_provider": "dlt_http", "sms_dlt_url": False})
        mine = self.SmsSms.create({"number": "+919845000001", "body": "Mine"})
        theirs = self.SmsSms.create({"number": "+919845000002", "body": "Theirs", "record_company_id": other.id})
        self.assertEqual(mine.record_company_id, self.company)
        self.run_queue()
        self.assertEqual(mine.state, "sent")
        # The other company's gateway is not configured: its message fails, and says why.
        self.assertEqual((theirs.state, theirs.failure_type), ("error", "sms_acc"))
        self.assertIn("URL", theirs.klodr_error_message)

    def test_provider_ready(self):
        self.assertTrue(self.company._klodr_sms_provider_ready())
        self.company.write({"sms_provider": "dlt_http", "sms_dlt_url": False})
        self.assertFalse(self.company._klodr_sms_provider_ready())
        self.company.sms_dlt_url = "https://gateway.example/send"
        self.assertTrue(self.company._klodr_sms_provider_ready())
        self.company.sms_provider = "iap"
        self.env["iap.account"].sudo().search([("service_name", "=", "sms")]).unlink()
        self.assertFalse(self.company._klodr_sms_provider_ready(), "no IAP SMS account")

    def test_settings_expose_the_providers(self):
        settings = self.env["res.config.settings"].create({})
        values = [value for value, _label in settings._fields["sms_provider"]._description_selection(self.env)]
        self.assertTrue({"iap", "dlt_http", "log"} <= set(values))
        settings.write({"sms_provider": "dlt_http", "sms_dlt_url": "https://gateway.example/send",
                        "sms_dlt_sender_id": "KLODRR"})
        settings.execute()
        self.assertEqual(self.company.sms_provider, "dlt_http")
        self.assertEqual(self.company.sms_dlt_sender_id, "KLODRR")
        # The settings form renders with our fields (and sms_twilio's, when installed).
        self.env["res.config.settings"].get_views([(False, "form")])
