from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import KlodrSmsCommon

# Asia/Kolkata is UTC+05:30.
IST_2200 = datetime(2026, 3, 10, 16, 30)  # 22:00 in Bengaluru
IST_1200 = datetime(2026, 3, 10, 6, 30)  # 12:00
NEXT_DAY_1000 = datetime(2026, 3, 11, 4, 30)  # 10:00 the next day, in UTC


@tagged("post_install", "-at_install")
class TestNotifications(KlodrSmsCommon):
    def test_welcome_on_enrolment(self):
        member = self.env["klodr.member"]._enroll(self.program, {"name": "Kavya Iyer", "mobile": "98450 11111"})
        sms = self.member_sms(member)
        self.assertEqual(sms.mapped("klodr_event"), ["welcome"])
        self.assertEqual(sms.body, "Welcome to Klodr Rewards, Kavya Iyer! Your balance is 100 points. -KLODR")
        self.assertEqual((sms.number, sms.klodr_kind, sms.state), ("+919845011111", "service", "outgoing"))
        self.assertFalse(sms.klodr_send_after, "service messages leave at once")
        self.run_queue()
        self.assertEqual(sms.state, "sent")

    def test_points_earned(self):
        self.member._earn_order(1500, order_ref="SMS-1")
        # Not rendered while the cashier waits: queued with the purchase, sent by the queue's cron.
        self.assertFalse(self.member_sms(self.member, "earned"))
        self.assertEqual(self.notifications(self.member), [("earned", 150, 150)])
        self.assertEqual(self.process_notifications(), 1)
        sms = self.member_sms(self.member, "earned")
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.body, "You earned 150 points with Klodr Rewards. Balance: 150 points. -KLODR")
        self.run_queue()
        self.assertEqual(sms.state, "sent")
        # Once: the row went with the SMS; another run finds nothing.
        self.assertEqual(self.process_notifications(), 0)
        self.assertEqual(len(self.member_sms(self.member, "earned")), 1)

    def test_earned_sms_tells_the_balance_of_its_purchase(self):
        self.member._earn_order(1500, order_ref="SMS-1a")
        self.member._earn_order(2000, order_ref="SMS-1b")
        self.assertEqual(self.process_notifications(), 2)
        self.assertEqual(self.member_sms(self.member, "earned").mapped("body"), [
            "You earned 150 points with Klodr Rewards. Balance: 150 points. -KLODR",
            "You earned 200 points with Klodr Rewards. Balance: 350 points. -KLODR"])

    def test_rolled_back_purchase_queues_nothing(self):
        with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():
            self.member._earn_order(1500, order_ref="SMS-1c")
            raise ZeroDivisionError
        self.assertEqual(self.notifications(self.member), [])
        self.assertEqual(self.process_notifications(), 0)
        self.assertFalse(self.member_sms(self.member))

    def test_program_settings(self):
        self.program.sms_notify_earn_redeem = False
        self.member._earn_order(1500, order_ref="SMS-2")
        self.assertEqual(self.notifications(self.member), [], "nothing would be sent: nothing queued")
        self.program.write({"sms_notify_earn_redeem": True, "sms_enabled": False})
        self.member._earn_order(1500, order_ref="SMS-3")
        self.process_notifications()
        self.assertFalse(self.member_sms(self.member))

    def test_blocked_member_gets_no_notification(self):
        self.member.state = "blocked"
        self.assertFalse(self.member._klodr_notify("earned", points=10))

    def test_tier_change(self):
        self.member._earn_order(10000, order_ref="SMS-4")  # 1000 + 250 points: Silver
        self.assertEqual(self.member.tier_id, self.silver, "the tier changes in the purchase's transaction")
        self.assertFalse(self.member_sms(self.member, "tier_change"))
        self.process_notifications()
        sms = self.member_sms(self.member, "tier_change")
        self.assertEqual(sms.body, "Your Klodr Rewards tier is now Silver (was Bronze). -KLODR")

    def test_missing_template_sends_nothing(self):
        self.template_earned.unlink()
        self.member._earn_order(1500, order_ref="SMS-5")
        self.assertEqual(self.process_notifications(), 1)
        self.assertFalse(self.member_sms(self.member, "earned"))
        self.assertTrue(self.env["klodr.transaction"].search([("order_ref", "=", "SMS-5")]))

    def test_broken_template_does_not_break_the_purchase(self):
        self.template_earned.body = "You earned {{ points.nope() }} points."
        transaction = self.member._earn_order(1500, order_ref="SMS-6")
        self.assertEqual(transaction.points_earned, 150)
        with self.assertLogs("odoo.addons.loyalty_klodr_sms.models.klodr_member", level="ERROR"):
            self.assertEqual(self.process_notifications(), 1)
        self.assertFalse(self.member_sms(self.member, "earned"))
        self.assertEqual(self.notifications(self.member), [], "logged and dropped, not retried forever")


@tagged("post_install", "-at_install")
class TestPromotional(KlodrSmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.member.write({"consent_sms_promo": True, "birthday": date(1990, 3, 10)})

    def test_birthday_in_window_leaves_at_once(self):
        with freeze_time(IST_1200):
            sms = self.member._klodr_notify("birthday", points=50)
            self.assertEqual((sms.klodr_kind, sms.klodr_send_after), ("promotional", False))
            self.assertEqual(sms.body, "Happy birthday, Priya Test! 50 bonus points are in your Klodr Rewards "
                                       "account. -KLODR")
            self.run_queue()
        self.assertEqual(sms.state, "sent")

    def test_birthday_at_22h_waits_for_10h_next_day(self):
        with freeze_time(IST_2200):
            sms = self.member._klodr_notify("birthday", points=50)
            self.assertEqual(sms.klodr_send_after, NEXT_DAY_1000)
            self.assertEqual(sms.state, "outgoing")
            self.run_queue()
            self.assertEqual(sms.state, "outgoing", "not sent at night")
        with freeze_time(datetime(2026, 3, 11, 4, 29)):
            self.run_queue()
            self.assertEqual(sms.state, "outgoing")
            sms.send()  # a manual 'Send now' respects the schedule too
            self.assertEqual(sms.state, "outgoing")
        with freeze_time(datetime(2026, 3, 11, 4, 31)):
            self.run_queue()
        self.assertEqual(sms.state, "sent")

    def test_early_morning_waits_for_10h_same_day(self):
        with freeze_time(datetime(2026, 3, 10, 1, 0)):  # 06:30 IST
            sms = self.member._klodr_notify("anniversary", points=20)
        self.assertEqual(sms.klodr_send_after, datetime(2026, 3, 10, 4, 30))

    def test_no_consent_nothing_queued(self):
        self.member.consent_sms_promo = False
        with freeze_time(IST_1200):
            self.assertFalse(self.member._klodr_notify("birthday", points=50))
        self.assertFalse(self.member_sms(self.member))

    def test_blacklisted_nothing_queued(self):
        self.env["phone.blacklist"].sudo().create({"number": self.member.mobile})
        with freeze_time(IST_1200):
            self.assertFalse(self.member._klodr_notify("anniversary", points=20))
        self.assertFalse(self.member_sms(self.member))
        # Service messages still go: they are not marketing.
        self.assertTrue(self.member._klodr_notify("earned", points=20))

    def test_consent_withdrawn_before_the_window(self):
        with freeze_time(IST_2200):
            sms = self.member._klodr_notify("birthday", points=50)
        self.member.consent_sms_promo = False
        with freeze_time(datetime(2026, 3, 11, 5, 0)):
            self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("canceled", "sms_optout"))

    def test_blacklisted_before_the_window(self):
        with freeze_time(IST_2200):
            sms = self.member._klodr_notify("birthday", points=50)
        self.env["phone.blacklist"].sudo().create({"number": self.member.mobile})
        with freeze_time(datetime(2026, 3, 11, 5, 0)):
            self.run_queue()
        self.assertEqual((sms.state, sms.failure_type), ("canceled", "sms_blacklist"))

    def test_birthday_cron_queues_the_wish(self):
        self.env["klodr.earn.rule"].create({"program_id": self.program.id, "name": "Birthday", "kind": "event",
                                            "event": "birthday", "points": 50, "tier_multiplied": False,
                                            "entry_type": "bonus"})
        with freeze_time(IST_2200):
            self.env["klodr.member"]._grant_birthdays()
        sms = self.member_sms(self.member, "birthday")
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.klodr_send_after, NEXT_DAY_1000)
        self.assertIn("50 bonus points", sms.body)


@tagged("post_install", "-at_install")
class TestNotificationRights(KlodrSmsCommon):
    def test_cashier_triggers_sms_without_sms_rights(self):
        member = self.member.with_user(self.user_cashier)
        transaction = member._earn_order(1500, order_ref="SMS-CASHIER")
        self.assertEqual(transaction.points_earned, 150)
        self.assertEqual(self.process_notifications(), 1)  # the cron, as its own user
        sms = self.member_sms(self.member, "earned")
        self.assertEqual(len(sms), 1)

    def test_template_preview_renders_without_values(self):
        preview = self.env["sms.template.preview"].create({
            "sms_template_id": self.template_otp.id, "resource_ref": f"klodr.member,{self.member.id}"})
        self.assertEqual(preview.body, "Your  OTP is . Valid  minutes. Do not share it. -")
