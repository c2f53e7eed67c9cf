from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import KlodrSmsCommon

NOON_IST = datetime(2026, 6, 1, 6, 30)  # 1 June 2026, 12:00 in Bengaluru
TODAY = date(2026, 6, 1)


@tagged("post_install", "-at_install")
class TestExpiryReminder(KlodrSmsCommon):
    def lot(self, member, points, expiry_date):
        with freeze_time(NOON_IST - timedelta(days=30)):
            return self.ledger._post(member, "earn", points, expiry_date=expiry_date, source_ref="lot")

    def test_reminder_sent_once(self):
        self.assertEqual(self.program.sms_expiry_reminder_days, 7)
        self.lot(self.member, 300, TODAY + timedelta(days=7))
        self.lot(self.member, 200, TODAY + timedelta(days=7))
        self.lot(self.member, 900, TODAY + timedelta(days=8))  # not yet
        self.lot(self.member_2, 50, TODAY + timedelta(days=6))  # already past its reminder day
        Reminder = self.env["klodr.sms.reminder"]
        with freeze_time(NOON_IST):
            reminders = Reminder._send_reminders()
            self.assertEqual(reminders.member_id, self.member)
            self.assertEqual((reminders.points, reminders.expiry_date), (500, TODAY + timedelta(days=7)))
            sms = self.member_sms(self.member, "expiry")
            self.assertEqual(reminders.sms_id, sms)
            self.assertEqual(sms.body, "500 Klodr Rewards points expire on 8 Jun 2026. Use them before then. -KLODR")
            self.assertFalse(sms.klodr_send_after, "inside the day window: at once")
            # The hourly cron runs again: nothing new.
            self.assertFalse(Reminder._send_reminders())
            self.run_queue()
        self.assertEqual(len(self.member_sms(self.member, "expiry")), 1)
        self.assertEqual(sms.state, "sent")
        self.assertFalse(self.member_sms(self.member_2, "expiry"))

    def test_spent_points_not_reminded(self):
        self.lot(self.member, 300, TODAY + timedelta(days=7))
        with freeze_time(NOON_IST - timedelta(days=1)):
            self.ledger._post(self.member, "redeem", -300, source_ref="spent")
        with freeze_time(NOON_IST):
            self.assertFalse(self.env["klodr.sms.reminder"]._send_reminders())

    def test_reminders_off(self):
        self.lot(self.member, 300, TODAY + timedelta(days=7))
        self.program.sms_expiry_reminder_days = 0
        with freeze_time(NOON_IST):
            self.assertFalse(self.env["klodr.sms.reminder"]._send_reminders())

    def test_reminder_at_night_waits_for_the_morning(self):
        self.program.sms_expiry_reminder_days = 3
        with freeze_time(datetime(2026, 5, 31, 18, 45)):  # 00:15 IST on 1 June
            self.lot(self.member, 300, TODAY + timedelta(days=3))
            reminders = self.env["klodr.sms.reminder"]._send_reminders()
        self.assertEqual(reminders.sms_id.klodr_send_after, datetime(2026, 6, 1, 4, 30))
