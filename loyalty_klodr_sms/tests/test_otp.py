import logging
import re
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError

from .common import KlodrSmsCommon

OTP_RE = re.compile(r"OTP is (\d{6})\.")


@tagged("post_install", "-at_install")
class TestOtp(KlodrSmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Redemption = cls.env["klodr.redemption"]
        cls.buyer = cls.env["klodr.member"].create({"name": "Buyer", "program_id": cls.program.id,
                                                    "mobile": "9845017001"})
        cls.ledger._post(cls.buyer, "earn", 1000, source_ref="opening")

    def start(self, **kwargs):
        kwargs.setdefault("points", 200)
        kwargs.setdefault("order_ref", "POS/1")
        return self.Redemption._start(self.buyer, **kwargs)

    def otp_sms(self, redemption):
        return self.SmsSms.search([("klodr_redemption_id", "=", redemption.id), ("klodr_event", "=", "otp")],
                                  order="id")

    def test_otp_read_from_the_log_provider_queue(self):
        redemption = self.start()
        self.assertEqual(redemption.state, "pending_otp")
        sms = self.otp_sms(redemption)
        self.assertEqual(len(sms), 1)
        self.assertEqual((sms.number, sms.state, sms.klodr_kind), ("+919845017001", "outgoing", "service"))
        self.assertEqual(sms.klodr_expires_at, redemption.otp_expires_at)
        hooks = [getattr(func, "__qualname__", "") for func in self.env.cr.postcommit._funcs]
        self.assertIn("SmsSms._klodr_send_after_commit.<locals>.send", hooks,
                      "sent right after the commit (the queue is the fallback)")
        code = OTP_RE.search(sms.body).group(1)
        self.assertEqual(sms.body, f"Your Klodr Rewards OTP is {code}. Valid 5 minutes. Do not share it. -KLODR")
        # What the post-commit hook does, run by hand (tests do not commit).
        sms._klodr_send_now()
        self.assertEqual((sms.state, sms.to_delete), ("sent", False))
        self.assertIn(code, sms.body, "the log provider keeps the text: tests read the code there")
        outcome = redemption._confirm(code)
        self.assertEqual(outcome["status"], "confirmed")
        redeemed = self.member_sms(self.buyer, "redeemed")
        currency = self.program.currency_id.name
        self.assertEqual(redeemed.body, f"You redeemed 200 points for {currency} 50.00 with Klodr Rewards. "
                                        "Balance: 800 points. -KLODR")

    def test_otp_sent_by_the_queue_too(self):
        redemption = self.start()
        sms = self.otp_sms(redemption)
        self.assertIn(sms, self.run_queue())
        self.assertEqual(sms.state, "sent")

    def test_otp_never_in_chatter_nor_logs(self):
        with self.assertLogs("odoo", level=logging.DEBUG) as logs:
            logging.getLogger("odoo.addons.loyalty_klodr_sms").info("capture start")
            redemption = self.start()
            sms = self.otp_sms(redemption)
            sms._klodr_send_now()
        code = OTP_RE.search(sms.body).group(1)
        # Odoo's own SQL debug logging (odoo.sql_db, --log-sql) prints every query with its values:
        # it is a developer's tool, off in production; everything else must not see the code.
        for line in logs.output:
            if not line.startswith("DEBUG:odoo.sql_db:"):
                self.assertNotIn(code, line)
        self.env.flush_all()
        messages = self.env["mail.message"].sudo().search([
            ("model", "in", ("klodr.redemption", "klodr.member")),
            ("res_id", "in", (redemption.id, self.buyer.id))])
        for message in messages:
            self.assertNotIn(code, str(message.body or ""))
            self.assertNotIn(code, " ".join(map(str, message.tracking_value_ids.mapped("new_value_char"))))
        self.assertFalse(self.env["mail.message"].sudo().search_count([("body", "ilike", code)]))
        self.assertFalse(sms.mail_message_id, "not sent through the chatter")
        self.assertEqual(self.SmsSms.search_count([("body", "ilike", code)]), 1, "the code is in one SMS only")

    def test_new_code_voids_the_queued_one(self):
        self.use_gateway(self.start_gateway(default=(503, "down", 0)))
        start = fields.Datetime.now()
        with freeze_time(start):
            redemption = self.start()
            first = self.otp_sms(redemption)
            first._klodr_send_now()
            self.assertEqual(first.state, "error")
        with freeze_time(start + timedelta(seconds=40)):
            redemption._resend()
        second = self.otp_sms(redemption) - first
        self.assertEqual(len(second), 1)
        self.assertEqual((first.state, first.body), ("canceled", False), "the old code is erased")
        self.assertEqual(first.klodr_error_message, "Replaced by a new code.")
        self.assertEqual(second.state, "outgoing")

    def test_expired_code_is_voided_not_retried(self):
        gateway = self.start_gateway(default=(503, "down", 0))
        self.use_gateway(gateway)
        start = fields.Datetime.now()
        with freeze_time(start):
            redemption = self.start()
            sms = self.otp_sms(redemption)
            self.run_queue()
        self.assertEqual(sms.state, "error")
        with freeze_time(start + timedelta(minutes=6)):
            self.run_queue()
        self.assertEqual((sms.state, sms.body), ("canceled", False))
        self.assertEqual(len(gateway.requests), 1, "not sent after the code expired")
        self.assertTrue(redemption.otp_expires_at <= start + timedelta(minutes=6))

    def test_no_provider_no_otp_redemption(self):
        self.company.write({"sms_provider": "dlt_http", "sms_dlt_url": False})
        with self.assertRaises(LoyaltyError) as caught:
            self.start()
        self.assertEqual(caught.exception.code, "otp_unavailable")

    def test_no_otp_template_no_channel(self):
        self.template_otp.unlink()
        redemption = self.Redemption.new({"program_id": self.program.id, "company_id": self.company.id})
        self.assertFalse(redemption._otp_channel_available())
