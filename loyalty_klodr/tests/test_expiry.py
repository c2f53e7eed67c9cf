from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import KlodrCommon


@tagged("post_install", "-at_install")
class TestExpiry(KlodrCommon):
    def setUp(self):
        super().setUp()
        self.old = self.post(self.member, "earn", 100, date=datetime(2025, 1, 10, 9, 0))
        self.newer = self.post(self.member, "earn", 60, date=datetime(2025, 3, 10, 9, 0))
        self.current = self.post(self.member, "earn", 40, date=datetime(2026, 1, 10, 9, 0))
        self.post(self.member, "redeem", -30, date=datetime(2025, 4, 1, 9, 0))

    def expire(self, today, **kwargs):
        return self.ledger._expire_due_lots(today=today, programs=self.program, **kwargs)

    def expire_entries(self):
        return self.member.entry_ids.filtered(lambda e: e.entry_type == "expire")

    def test_expires_each_lot_remainder_once(self):
        self.assertEqual(self.old.expiry_date, date(2026, 1, 10))
        # spendable through its expiry date
        self.assertEqual(self.expire(date(2026, 1, 10)), 0)
        self.assertEqual(self.expire(date(2026, 1, 11)), 1)
        entry = self.expire_entries()
        self.assertEqual(entry.points, -70)  # 100 less the 30 redeemed from it (FIFO)
        self.assertEqual(entry.allocation_ids.lot_entry_id, self.old)
        self.assertEqual(self.old.remaining, 0)
        self.assertEqual(self.member.balance, 200 - 30 - 70)
        self.assertEqual(self.expire(date(2026, 1, 11)), 0)
        self.assertEqual(self.expire(date(2026, 2, 1)), 0)
        self.assertEqual(self.expire(date(2026, 3, 11)), 1)
        self.assertEqual(self.expire(date(2026, 3, 11)), 0)
        self.assertEqual(sorted(self.expire_entries().mapped("points")), [-70, -60])
        self.assertEqual(self.member.balance, 40)
        self.assertLedgerWhole()

    def test_interrupted_run_resumes_without_expiring_twice(self):
        members = self.member | self.member_2
        for number in range(5):
            self.post(self.member_2, "earn", 10 + number, date=datetime(2025, 1, 1 + number, 9, 0))
        # a run that stops after its first batch (as a killed cron would)
        expired = self.expire(date(2026, 6, 1), batch_size=2, max_batches=1)
        self.assertEqual(expired, 2)
        self.assertFalse(self.program.expiry_checked_until, "an interrupted run must not move the watermark")
        expired += self.expire(date(2026, 6, 1), batch_size=2)
        self.assertEqual(expired, 2 + 5)  # 5 lots of member_2 and 2 of member's, each once
        self.assertEqual(self.expire(date(2026, 6, 1), batch_size=2), 0)
        self.assertEqual(self.program.expiry_checked_until, date(2026, 6, 1))
        lots = self.ledger.search([("member_id", "in", members.ids), ("points", ">", 0)])
        keys = self.ledger.search([("member_id", "in", members.ids), ("entry_type", "=", "expire")]) \
            .mapped("idempotency_key")
        self.assertEqual(len(keys), len(set(keys)))
        self.assertEqual(sorted(keys), sorted(f"expire:{lot.id}" for lot in lots
                                              if lot.expiry_date < date(2026, 6, 1)))
        self.assertEqual(members.mapped("balance"), [40, 0])
        self.assertLedgerWhole()

    def test_backdated_lot_after_watermark_is_found(self):
        self.expire(date(2026, 6, 1))
        self.assertEqual(self.member.balance, 40)
        late = self.post(self.member_2, "earn", 25, date=datetime(2025, 2, 1, 9, 0))
        self.assertEqual(self.expire(date(2026, 6, 2)), 1)
        self.assertEqual(late.remaining, 0)
        self.assertLedgerWhole()

    def test_cron_method_runs(self):
        self.env.ref("loyalty_klodr.ir_cron_klodr_expire_lots").ensure_one()
        self.assertEqual(self.expire(date.today()), 2)  # noqa: DTZ011

    def test_expiry_day_is_the_programs(self):
        # 2026-01-10 is the last day of the old lot; 20:00 UTC on that day is already the 11th in Kolkata
        self.program.tz = "Asia/Kolkata"
        with freeze_time("2026-01-10 20:00:00"):
            self.assertEqual(self.ledger._expire_due_lots(programs=self.program), 1)
        self.program.tz = "America/New_York"
        self.post(self.member_2, "earn", 10, date=datetime(2025, 3, 10, 18, 0))  # lot of the 10th there
        with freeze_time("2026-03-11 02:00:00"):  # still the 10th in New York: spendable
            self.ledger._expire_due_lots(programs=self.program)
        self.assertEqual(self.member_2.balance, 10)
        with freeze_time("2026-03-11 06:00:00"):  # the 11th there: expired
            self.ledger._expire_due_lots(programs=self.program)
        self.assertEqual(self.member_2.balance, 0)

    def test_cron_stops_when_its_time_is_up(self):
        for number in range(4):
            self.post(self.member_2, "earn", 5, date=datetime(2025, 1, 1 + number, 9, 0))
        calls = []

        def progress(done, remaining=None):
            calls.append(done)
            return 0  # no time left

        expired = self.ledger._expire_due_lots(today=date(2026, 6, 1), programs=self.program, batch_size=2,
                                               progress=progress)
        self.assertEqual((expired, calls), (2, [2]))
        self.assertFalse(self.program.expiry_checked_until)
        self.assertEqual(self.ledger._expire_due_lots(today=date(2026, 6, 1), programs=self.program), 4)
