from datetime import date, datetime, timedelta

import psycopg2
from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_klodr.exceptions import IdempotencyConflict, InsufficientPoints, LoyaltyError
from odoo.addons.loyalty_klodr.tools.hashing import GENESIS, entry_hash

from .common import KlodrCommon


@tagged("post_install", "-at_install")
class TestLedgerPosting(KlodrCommon):
    def test_earn_moves_balance_and_chains_hashes(self):
        first = self.post(self.member, "earn", 120, source_ref="INV-1", store=self.store_a)
        second = self.post(self.member, "bonus", 30)
        self.assertEqual(self.member.balance, 150)
        self.assertEqual((first.balance_after, second.balance_after), (120, 150))
        self.assertEqual(first.prev_hash, GENESIS)
        self.assertEqual(second.prev_hash, first.entry_hash)
        self.assertEqual(self.member.sudo().chain_head, second.entry_hash)
        self.assertEqual(first.company_id, self.company)
        self.assertEqual(first.user_id, self.env.user)
        self.assertEqual(first.store_id, self.store_a)
        self.assertEqual(first.entry_hash, entry_hash(GENESIS, {
            "program_id": self.program.id, "member_id": self.member.id, "entry_type": "earn",
            "points": 120, "balance_after": 120, "date": first.date, "expiry_date": first.expiry_date,
            "source_ref": "INV-1", "store_id": self.store_a.id}))
        self.assertLedgerWhole()

    def test_lot_expiry_follows_program_policy(self):
        earned = self.post(self.member, "earn", 10, date=datetime(2026, 1, 31, 12, 0))
        self.assertEqual(earned.expiry_date, date(2027, 1, 31))
        self.program.expiry_policy = "end_of_month"
        self.program.expiry_months = 1
        earned = self.post(self.member, "earn", 10, date=datetime(2026, 1, 15, 12, 0))
        self.assertEqual(earned.expiry_date, date(2026, 2, 28))
        self.program.expiry_policy = "never"
        self.assertFalse(self.post(self.member, "earn", 10).expiry_date)

    def test_bad_points_are_refused_and_change_nothing(self):
        self.post(self.member, "earn", 100)
        for entry_type, points in [("earn", -5), ("redeem", 5), ("earn", 0), ("adjust", 0),
                                   ("earn", 10**12), ("earn", 2.5), ("earn", True), ("gift", 5)]:
            with self.subTest(entry_type=entry_type, points=points), self.assertRaises(LoyaltyError):
                self.post(self.member, entry_type, points)
        self.assertEqual(self.member.balance, 100)
        self.assertEqual(len(self.member.entry_ids), 1)

    def test_fifo_consumes_earliest_expiry_first(self):
        late = self.post(self.member, "earn", 100, date=datetime(2026, 6, 1))
        early = self.post(self.member, "earn", 50, date=datetime(2026, 2, 1))
        never = self.post(self.member, "adjust", 40, expiry_date=None)
        with freeze_time("2026-07-01 10:00:00"):
            # adjust lots follow the policy too; one that never expires comes last
            self.program.expiry_policy = "never"
            forever = self.post(self.member, "earn", 25)
            redeem = self.post(self.member, "redeem", -120)
        consumed = {a.lot_entry_id: a.points for a in redeem.allocation_ids}
        self.assertEqual(consumed[early], 50)
        self.assertEqual(consumed[late] + consumed.get(never, 0), 70)
        self.assertNotIn(forever, consumed)
        # earliest expiry first: the lot of 2026-02 is emptied before that of 2026-06
        self.assertEqual(early.remaining, 0)
        self.assertEqual(self.member.balance, 215 - 120)
        self.assertEqual(sum(self.member.lot_ids.mapped("remaining")), self.member.balance)
        self.assertLedgerWhole()

    def test_expired_lots_cannot_be_spent(self):
        self.post(self.member, "earn", 100, date=datetime(2024, 1, 1))
        self.post(self.member, "earn", 30)
        with self.assertRaises(InsufficientPoints):
            self.post(self.member, "redeem", -100)
        self.assertEqual(self.member.balance, 130)

    def test_redeem_beyond_balance_is_refused(self):
        self.post(self.member, "earn", 100)
        with self.assertRaises(InsufficientPoints) as caught:
            self.post(self.member, "redeem", -101)
        self.assertEqual(caught.exception.code, "insufficient_points")
        self.assertEqual(self.member.balance, 100)
        with self.assertRaises(InsufficientPoints):
            self.post(self.member, "adjust", -101)

    def test_refund_may_go_negative_and_next_credit_settles_debt(self):
        self.post(self.member, "earn", 100)
        self.post(self.member, "redeem", -80)
        refund = self.post(self.member, "refund", -50)
        self.assertEqual(self.member.balance, -30)
        self.assertEqual(sum(refund.allocation_ids.mapped("points")), 20)
        with self.assertRaises(InsufficientPoints):
            self.post(self.member, "redeem", -1)
        self.assertLedgerWhole()
        credit = self.post(self.member, "earn", 100)
        self.assertEqual(self.member.balance, 70)
        # the debt is paid from the new lot first
        self.assertEqual(credit.consumed_by_ids.debit_entry_id, refund)
        self.assertEqual(credit.remaining, 70)
        self.assertLedgerWhole()

    def test_blocked_member_cannot_earn_or_redeem(self):
        self.post(self.member, "earn", 100)
        self.member.state = "blocked"
        for entry_type, points in [("earn", 10), ("redeem", -10)]:
            with self.assertRaises(LoyaltyError) as caught:
                self.post(self.member, entry_type, points)
            self.assertEqual(caught.exception.code, "member_inactive")
        self.post(self.member, "adjust", -10)
        self.assertEqual(self.member.balance, 90)


@tagged("post_install", "-at_install")
class TestIdempotency(KlodrCommon):
    def test_same_key_twice_writes_one_entry_and_replays(self):
        first = self.post(self.member, "earn", 75, idempotency_key="order-1")
        replay = self.post(self.member, "earn", 75, idempotency_key="order-1")
        self.assertEqual(replay, first)
        self.assertEqual(self.member.balance, 75)
        self.assertEqual(len(self.member.entry_ids), 1)

    def test_same_key_for_another_operation_conflicts(self):
        self.post(self.member, "earn", 75, idempotency_key="order-2")
        for member, points in [(self.member, 76), (self.member_2, 75)]:
            with self.assertRaises(IdempotencyConflict):
                self.post(member, "earn", points, idempotency_key="order-2")
        self.assertEqual(self.member.balance + self.member_2.balance, 75)

    @mute_logger("odoo.sql_db")
    def test_database_constraint_backs_the_key(self):
        self.post(self.member, "earn", 10, idempotency_key="order-3")
        with self.assertRaises(psycopg2.errors.UniqueViolation), self.env.cr.savepoint():
            self.ledger.sudo().with_context(klodr_ledger_post=True).create({
                "program_id": self.program.id, "company_id": self.company.id, "member_id": self.member.id,
                "entry_type": "earn", "points": 10, "date": datetime.now(), "idempotency_key": "order-3"})


@tagged("post_install", "-at_install")
class TestImmutability(KlodrCommon):
    def setUp(self):
        super().setUp()
        self.post(self.member, "earn", 100)
        self.entry = self.post(self.member, "redeem", -40)

    def test_orm_write_and_unlink_refused(self):
        with self.assertRaises(UserError):
            self.entry.write({"points": -1})
        with self.assertRaises(UserError):
            self.entry.unlink()
        with self.assertRaises(UserError):
            self.entry.allocation_ids.write({"points": 1})
        with self.assertRaises(UserError):
            self.entry.allocation_ids.unlink()
        with self.assertRaises(UserError):
            self.ledger.create({"program_id": self.program.id, "member_id": self.member.id,
                                "entry_type": "earn", "points": 1000})
        with self.assertRaises(UserError):
            self.member.write({"balance": 1000})

    @mute_logger("odoo.sql_db")
    def test_raw_sql_update_delete_truncate_refused(self):
        for query in [
            "UPDATE klodr_ledger_entry SET points = -1 WHERE id = %s",
            "DELETE FROM klodr_ledger_entry WHERE id = %s",
            "UPDATE klodr_ledger_allocation SET points = 1 WHERE debit_entry_id = %s",
            "DELETE FROM klodr_ledger_allocation WHERE debit_entry_id = %s",
        ]:
            with self.subTest(query=query), self.assertRaises(psycopg2.errors.InsufficientPrivilege), \
                    self.env.cr.savepoint():
                self.env.cr.execute(query, [self.entry.id])
        for table in ("klodr_ledger_entry", "klodr_ledger_allocation"):
            with self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
                self.env.cr.execute(f"TRUNCATE {table} CASCADE")  # noqa: S608 - fixed names
        self.env.cr.execute("SELECT points FROM klodr_ledger_entry WHERE id = %s", [self.entry.id])
        self.assertEqual(self.env.cr.fetchone()[0], -40)

    def test_trigger_survives_module_update(self):
        self.env["klodr.ledger.entry"].init()
        self.env.cr.execute("""SELECT count(*) FROM pg_trigger
                                WHERE tgname IN ('klodr_ledger_append_only', 'klodr_ledger_no_truncate')""")
        self.assertEqual(self.env.cr.fetchone()[0], 4)

    def test_member_with_entries_is_never_deleted(self):
        with self.assertRaises(UserError):
            self.member.unlink()


@tagged("post_install", "-at_install")
class TestHolds(KlodrCommon):
    def test_hold_reduces_spendable_until_consumed(self):
        self.post(self.member, "earn", 300)
        hold = self.env["klodr.ledger.hold"]._place(self.member, 200, ref="R-1")
        self.assertEqual((self.member.balance, self.member.held_points, self.member.spendable_points),
                         (300, 200, 100))
        # another store cannot spend the held points
        with self.assertRaises(InsufficientPoints):
            self.post(self.member, "redeem", -150)
        with self.assertRaises(InsufficientPoints):
            self.env["klodr.ledger.hold"]._place(self.member, 101)
        entry = self.post(self.member, "redeem", -200, hold=hold)
        self.assertEqual(hold.state, "consumed")
        self.assertEqual(hold.entry_id, entry)
        self.assertEqual((self.member.balance, self.member.held_points), (100, 0))
        with self.assertRaises(LoyaltyError):
            self.post(self.member, "redeem", -50, hold=hold)
        self.assertLedgerWhole()

    def test_released_and_lapsed_holds_stop_counting(self):
        self.post(self.member, "earn", 300)
        hold = self.env["klodr.ledger.hold"]._place(self.member, 250)
        hold._release()
        self.assertEqual(self.member.spendable_points, 300)
        lapsing = self.env["klodr.ledger.hold"]._place(self.member, 250, minutes=5)
        with freeze_time(datetime.now() + timedelta(minutes=6)):
            self.member.invalidate_recordset(["held_points", "spendable_points"])
            self.assertEqual(self.member.held_points, 0)
            self.post(self.member, "redeem", -260)
            with self.assertRaises(LoyaltyError):
                self.post(self.member, "redeem", -10, hold=lapsing)
            self.env["klodr.ledger.hold"]._cron_lapse_holds()
        self.assertEqual(lapsing.state, "lapsed")

    def test_hold_refused_for_bad_input(self):
        self.post(self.member, "earn", 300)
        for points in (0, -5, 1.5):
            with self.assertRaises(LoyaltyError):
                self.env["klodr.ledger.hold"]._place(self.member, points)
        self.assertEqual(self.member.held_points, 0)


@tagged("post_install", "-at_install")
class TestMembers(KlodrCommon):
    def test_mobile_normalised_to_e164(self):
        self.assertEqual(self.member.mobile, "+919845000001")
        found = self.env["klodr.member"]._find_by_mobile_or_code(self.program, "0091 98450-00001")
        self.assertEqual(found, self.member)
        self.assertEqual(self.env["klodr.member"]._find_by_mobile_or_code(self.program, self.member.code),
                         self.member)
        # the search box finds a member by the number typed in any format
        self.assertIn(self.member, self.env["klodr.member"].search([("display_name", "ilike", "098450 00001")]))

    def test_invalid_or_duplicate_mobile_refused(self):
        for mobile in ("12345", "080 2222 3333", "not a number", "+91 98450 00001 99999"):
            with self.subTest(mobile=mobile), self.assertRaises(ValidationError):
                self.env["klodr.member"].create({"name": "X", "program_id": self.program.id, "mobile": mobile})
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"), \
                self.env.cr.savepoint():
            self.env["klodr.member"].create({"name": "Dup", "program_id": self.program.id,
                                             "mobile": "+91-98450-00001"})

    def test_codes_are_unique(self):
        self.assertNotEqual(self.member.code, self.member_2.code)
        self.assertEqual(len(self.member.referral_code), 8)
        self.assertNotEqual(self.member.referral_code, self.member_2.referral_code)
