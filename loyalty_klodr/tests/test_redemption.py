from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError

from .common import KlodrRulesCommon, otp_outbox


@tagged("post_install", "-at_install")
class TestRedemption(KlodrRulesCommon):
    def setUp(self):
        super().setUp()
        self.Redemption = self.env["klodr.redemption"]
        self.buyer = self.make_member("9845017001", points=1000)
        self.discount = self.env["klodr.reward"].create({
            "name": "Discount 50", "program_id": self.program.id, "reward_type": "discount_fixed",
            "points_cost": 200, "value": 50})
        lounge = self.env["product.product"].create({"name": "Lounge", "type": "service"})
        self.lounge = self.env["klodr.reward"].create({
            "name": "Lounge", "program_id": self.program.id, "reward_type": "product", "product_id": lounge.id,
            "points_cost": 300, "value": 500, "min_tier_id": self.gold.id})
        mug = self.env["product.product"].create({"name": "Mug"})
        self.mug = self.env["klodr.reward"].create({
            "name": "Mug", "program_id": self.program.id, "reward_type": "product", "product_id": mug.id,
            "points_cost": 100, "value": 250, "stock": 1})

    def start(self, **kwargs):
        kwargs.setdefault("order_ref", "POS/1")
        return self.Redemption._start(self.buyer, **kwargs)

    def assertRefused(self, code, **kwargs):
        """Refused with ``code``, and nothing changed: no hold, no entry, no redemption."""
        self.buyer.invalidate_recordset()
        before = (self.buyer.balance, self.buyer.held_points, self.Redemption.search_count([]))
        with self.assertRaises(LoyaltyError) as caught, self.env.cr.savepoint():
            self.start(**kwargs)
        self.assertEqual(caught.exception.code, code)
        self.buyer.invalidate_recordset()
        self.assertEqual((self.buyer.balance, self.buyer.held_points, self.Redemption.search_count([])), before)
        return caught.exception

    def test_no_channel_means_no_redemption_when_otp_required(self):
        # as without any channel addon installed (the SMS addon may be)
        with patch.object(self.env.registry["klodr.redemption"], "_otp_channel_available", lambda self: False):
            self.assertRefused("otp_unavailable", points=200)
        self.assertEqual(self.buyer.balance, 1000)

    def test_without_otp_confirms_at_once(self):
        self.program.otp_required = False
        redemption = self.start(points=200, order_amount=1000)
        self.assertEqual((redemption.state, redemption.discount_amount), ("confirmed", 50.0))
        self.assertEqual(self.buyer.balance, 800)
        self.assertEqual(redemption.redeem_entry_id.points, -200)

    def test_happy_path_holds_then_redeems(self):
        with otp_outbox(self.env.registry) as sent:
            redemption = self.start(reward=self.discount, order_amount=500, store=self.store_a)
            self.assertEqual(redemption.state, "pending_otp")
            self.assertEqual((self.buyer.balance, self.buyer.held_points), (1000, 200))
            (_rid, code), = sent
            result = redemption._confirm(code)
        self.assertEqual(result, {"status": "confirmed", "points_redeemed": 200, "discount_amount": 50.0,
                                  "balance": 800})
        self.assertEqual((self.buyer.balance, self.buyer.held_points), (800, 0))
        self.assertEqual(redemption.hold_id.state, "consumed")
        self.assertEqual(redemption.issue_id.reward_id, self.discount)
        self.assertEqual(redemption.redeem_entry_id.store_id, self.store_a)
        self.assertEqual(redemption._confirm(code)["error"], "redemption_not_pending")  # a used code is spent
        self.assertEqual(self.buyer.balance, 800)
        # the code is in no message, no field
        messages = self.env["mail.message"].search([("model", "in", ["klodr.redemption", "klodr.member"])])
        self.assertFalse([m for m in messages if code in (m.body or "")])
        self.assertNotIn(code, str(redemption.sudo().read()[0]))
        self.assertLedgerWhole()

    def test_wrong_codes_then_locked(self):
        with otp_outbox(self.env.registry) as sent:
            redemption = self.start(points=300)
            code = sent[0][1]
            wrong = "000000" if code != "000000" else "111111"
            self.assertEqual(redemption._confirm(wrong), {"status": "pending_otp", "error": "otp_invalid",
                                                          "attempts_left": 2})
            self.assertEqual(redemption._confirm("abc")["attempts_left"], 1)
            self.assertEqual(redemption._confirm(wrong), {"status": "cancelled", "error": "otp_locked",
                                                          "attempts_left": 0})
            self.assertEqual(redemption._confirm(code)["error"], "redemption_not_pending")
        self.assertEqual((redemption.state, redemption.hold_id.state), ("cancelled", "released"))
        self.assertEqual((self.buyer.balance, self.buyer.held_points), (1000, 0))

    def test_expired_code(self):
        with otp_outbox(self.env.registry) as sent:
            redemption = self.start(points=300)
            with freeze_time(datetime.now() + timedelta(minutes=5, seconds=1)):
                self.buyer.invalidate_recordset(["held_points"])
                self.assertEqual(self.buyer.held_points, 0, "the hold lapses with the code")
                self.assertEqual(redemption._confirm(sent[0][1])["error"], "otp_expired")
        self.assertEqual(redemption.state, "expired")
        self.assertEqual(self.buyer.balance, 1000)

    def test_resend_throttle_and_old_code_void(self):
        with otp_outbox(self.env.registry) as sent:
            start = datetime.now()
            with freeze_time(start):
                redemption = self.start(points=300)
                with self.assertRaises(LoyaltyError) as caught:
                    redemption._resend()
                self.assertEqual((caught.exception.code, caught.exception.details["retry_after"]),
                                 ("rate_limited", 30))
            for step in range(1, 5):
                with freeze_time(start + timedelta(seconds=31 * step)):
                    redemption._resend()
            self.assertEqual(len(sent), 5)
            with freeze_time(start + timedelta(seconds=31 * 5)):
                with self.assertRaises(LoyaltyError):
                    redemption._resend()  # five codes per redemption at most
                old, new = sent[0][1], sent[-1][1]
                if old != new:
                    self.assertEqual(redemption._confirm(old)["error"], "otp_invalid")
                self.assertEqual(redemption._confirm(new)["status"], "confirmed")

    def test_per_member_throttle(self):
        self.program.otp_max_per_member_hour = 2
        with otp_outbox(self.env.registry):
            first = self.start(points=100)
            self.start(points=100, order_ref="POS/2")
            with self.assertRaises(LoyaltyError) as caught:
                self.start(points=100, order_ref="POS/3")
            self.assertEqual(caught.exception.code, "rate_limited")
            self.assertGreater(caught.exception.details["retry_after"], 3500)
            first._cancel()

    def test_refusals(self):
        with otp_outbox(self.env.registry):
            self.assertRefused("validation_error", points=100, reward=self.discount)
            self.assertRefused("validation_error")
            self.assertRefused("validation_error", points=-5)
            self.assertRefused("validation_error", points=100, order_amount="lots")
            self.assertRefused("insufficient_points", points=1001)
            self.assertRefused("exceeds_max_redemption", points=500, order_amount=100)  # 125.00 > 50.00
            self.assertRefused("tier_restricted", reward=self.lounge)
            held = self.start(points=950)
            self.assertRefused("below_minimum_redemption", points=10)  # 50 spendable, 100 needed to redeem
        held._cancel()

    def test_more_refusals(self):
        with otp_outbox(self.env.registry):
            self.start(points=900)
            self.start(points=50, order_ref="POS/2")  # 100 spendable: exactly the minimum is enough
        self.program.min_redeem_balance = 51
        with otp_outbox(self.env.registry):
            self.assertRefused("below_minimum_redemption", points=10)  # 50 spendable now
            self.mug.stock = 0
            self.program.min_redeem_balance = 0
            self.assertRefused("out_of_stock", reward=self.mug)
            self.buyer.state = "blocked"
            self.assertRefused("member_inactive", points=10)
            self.buyer.state = "active"
            self.ledger._post(self.buyer, "refund", -1500)
            error = self.assertRefused("insufficient_points", points=10)
            self.assertIn("negative", str(error))

    def test_cancel_pending_and_reverse_confirmed(self):
        self.program.otp_required = False
        redemption = self.start(reward=self.mug)
        self.assertEqual((self.buyer.balance, self.mug.stock), (900, 0))
        redemption._cancel()
        self.assertEqual(redemption.state, "reversed")
        self.assertEqual(redemption.reversal_entry_id.points, 100)
        self.assertEqual((self.buyer.balance, self.mug.stock, redemption.issue_id.state), (1000, 1, "cancelled"))
        with self.assertRaises(LoyaltyError):
            redemption._cancel()
        self.program.otp_required = True
        with otp_outbox(self.env.registry):
            pending = self.start(points=400)
            pending._cancel()
        self.assertEqual((pending.state, self.buyer.held_points), ("cancelled", 0))
        self.assertLedgerWhole()

    def test_cron_expires_pending(self):
        with otp_outbox(self.env.registry):
            redemption = self.start(points=300)
        with freeze_time(datetime.now() + timedelta(minutes=6)):
            self.Redemption._cron_expire()
        self.assertEqual((redemption.state, redemption.hold_id.state), ("expired", "released"))
