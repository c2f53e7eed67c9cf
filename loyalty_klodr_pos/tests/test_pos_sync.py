from decimal import Decimal

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.loyalty_klodr.tools.apportion import largest_remainder

from .common import OTP, KlodrPosCommon

# Shirt 2 x 333.33 + 7% (excluded) = 713.33; Saree 1,234.57 (10% included); Book 3 x 99.99 = 299.97
ORDER_TOTAL = 713.33 + 1234.57 + 299.97  # 2,247.87: 224 points at 1 per 10
EARNED = 224


@tagged("post_install", "-at_install")
class TestPosSync(KlodrPosCommon):
    def test_sync_twice_credits_once(self):
        data = self.order_data()
        order = self.sync(data)
        self.assertAlmostEqual(order.amount_total, ORDER_TOTAL, places=2)
        self.assertEqual(order.klodr_points_earned, EARNED)
        self.assertEqual(order.klodr_member_id, self.member)
        self.assertTrue(order.klodr_synced)
        self.assertEqual(self.member.balance, 1000 + EARNED)
        self.assertEqual(order.klodr_balance, 1000 + EARNED)
        transaction = order.klodr_transaction_id
        self.assertEqual(transaction.order_ref, f"pos:{order.uuid}")
        self.assertEqual(transaction.store_id, self.store)
        # The browser retries (lost answer), and later syncs the same order again.
        self.assertEqual(self.sync(data), order)
        self.assertEqual(self.sync(dict(data, state="paid")), order)
        self.assertEqual(self.env["klodr.transaction"].search_count([("order_ref", "=", f"pos:{order.uuid}")]), 1)
        self.assertEqual(self.member.balance, 1000 + EARNED)

    def test_draft_then_paid_credits_once(self):
        data = self.order_data()
        draft = self.sync(dict(data, state="draft", payment_ids=[], amount_paid=0))
        self.assertFalse(draft.klodr_transaction_id)
        self.assertEqual(self.member.balance, 1000)
        order = self.sync(dict(data, state="paid", lines=[]))  # the lines are on the server already
        self.assertEqual(order, draft)
        self.assertEqual(order.klodr_points_earned, EARNED)
        self.assertEqual(self.member.balance, 1000 + EARNED)

    def test_client_sent_points_are_ignored(self):
        data = self.order_data(klodr_points_earned=50000, klodr_points_redeemed=0, klodr_balance=99999,
                               klodr_tier_name="Platinum", klodr_synced=True)
        for _c, _i, line in data["lines"]:  # inflated totals: the server values the lines itself
            line["price_subtotal_incl"] *= 10
            line["price_subtotal"] *= 10
        order = self.sync(data)
        self.assertEqual(order.klodr_points_earned, EARNED)
        self.assertEqual(self.member.balance, 1000 + EARNED)
        self.assertEqual(order.klodr_balance, 1000 + EARNED)
        self.assertFalse(order.klodr_tier_name)

    def test_order_without_member_earns_nothing(self):
        order = self.sync(self.order_data(member=False))
        self.assertFalse(order.klodr_transaction_id)
        self.assertEqual(self.member.balance, 1000)

    def test_preview_matches_what_the_sync_credits(self):
        data = self.order_data()
        preview = self.cashier_config().klodr_preview_points(self.member.id, self.browser_lines(data["lines"]))
        self.assertEqual(preview["points"], EARNED)
        self.assertEqual(self.member.balance, 1000, "a preview writes nothing")
        self.assertEqual(self.sync(data).klodr_points_earned, preview["points"])

    def test_redeem_with_otp_confirms_once_with_the_order(self):
        data = self.order_data()
        answer = self.redeem(data, reward_id=self.reward_50.id)
        self.assertEqual(answer["points"], 200)
        self.assertEqual(self.member.balance, 1000, "authorized, not redeemed yet")
        self.assertEqual(self.member.held_points, 200)
        redemption = self.env["klodr.redemption"].browse(answer["redemption_id"])
        data = self.order_data(extra_lines=self.ui_reward_lines(answer), uuid=data["uuid"])
        order = self.sync(data)
        self.assertEqual(redemption.state, "confirmed")
        self.assertEqual(redemption.pos_order_id, order)
        self.assertEqual(order.klodr_points_redeemed, 200)
        self.assertFalse(order.klodr_error)
        # Points are earned on what was paid. The discount is before tax: the 7% (excluded) line's
        # share of it lowers its tax too.
        tax7_share = float(largest_remainder(50, [Decimal("666.66"), Decimal("1234.57"), Decimal("299.97")])[0])
        self.assertAlmostEqual(order.amount_total, ORDER_TOTAL - 50 - round(tax7_share * 0.07, 2), places=2)
        self.assertEqual(order.klodr_points_earned, int(order.amount_total // 10))
        balance = 1000 - 200 + order.klodr_points_earned
        self.assertEqual(self.member.balance, balance)
        self.assertEqual(self.member.held_points, 0)
        self.sync(data)
        self.assertEqual(self.env["klodr.ledger.entry"].search_count(
            [("member_id", "=", self.member.id), ("entry_type", "=", "redeem")]), 1)
        self.assertEqual(self.member.balance, balance)
        breaks = self.env["klodr.ledger.entry"]._verify_ledger(program_ids=self.program.ids)
        self.assertEqual([str(b) for b in breaks], [])

    def test_wrong_otp_counts_and_locks(self):
        data = self.order_data()
        config = self.cashier_config()
        lines = self.browser_lines(data["lines"])
        with self.fixed_otp() as sent:
            started = config.klodr_start_redemption(data["uuid"], self.member.id, points=400, lines=lines)
            self.assertEqual(started["status"], "pending_otp")
            self.assertEqual(sent, [(started["redemption_id"], OTP)])
            wrong = config.klodr_confirm_redemption(started["redemption_id"], "000000", lines)
            self.assertEqual((wrong["error"], wrong["details"]["attempts_left"]), ("otp_invalid", 2))
            self.assertNotIn("lines", wrong)
            config.klodr_confirm_redemption(started["redemption_id"], "111111", lines)
            locked = config.klodr_confirm_redemption(started["redemption_id"], "222222", lines)
            self.assertEqual(locked["error"], "otp_locked")
            late = config.klodr_confirm_redemption(started["redemption_id"], OTP, lines)
            self.assertEqual(late["error"], "redemption_not_pending")
        self.assertEqual(self.member.held_points, 0)
        self.assertEqual(self.member.balance, 1000)

    def test_discount_lines_per_tax_set_sum_exactly_to_the_reward(self):
        data = self.order_data()
        answer = self.redeem(data, points=333)  # 333 x 0.25 = 83.25
        self.assertEqual(answer["discount_amount"], 83.25)
        lines = answer["lines"]
        self.assertEqual({tuple(line["tax_ids"]) for line in lines},
                         {tuple(self.tax7.ids), tuple(self.tax10.ids), ()}, "one line per tax set")
        parts = [Decimal(str(-line["price_unit"])) for line in lines]
        self.assertEqual(sum(parts), Decimal("83.25"))
        # Each part is in proportion to what it discounts (before tax where tax is excluded).
        bases = {tuple(self.tax7.ids): Decimal("666.66"), tuple(self.tax10.ids): Decimal("1234.57"),
                 (): Decimal("299.97")}
        expected = dict(zip(bases, largest_remainder(Decimal("83.25"), list(bases.values())), strict=True))
        for line in lines:
            self.assertEqual(Decimal(str(-line["price_unit"])), expected[tuple(line["tax_ids"])])
        order = self.sync(self.order_data(extra_lines=self.ui_reward_lines(answer), uuid=data["uuid"]))
        reward_lines = order.lines.filtered("klodr_reward_line")
        self.assertEqual(len(reward_lines), 3)
        self.assertEqual(sum(Decimal(str(-line.price_unit)) for line in reward_lines), Decimal("83.25"))
        # Tax is computed on the discounted value: the 7% line carries its own share of tax.
        tax7_line = reward_lines.filtered(lambda line: line.tax_ids == self.tax7)
        self.assertAlmostEqual(tax7_line.price_subtotal_incl - tax7_line.price_subtotal,
                               float(expected[tuple(self.tax7.ids)]) * -0.07, places=2)
        self.assertEqual(order.klodr_points_redeemed, 333)
        self.assertFalse(order.klodr_error)

    def test_free_product_at_zero_price_or_full_discount(self):
        data = self.order_data()
        answer = self.redeem(data, reward_id=self.reward_mug.id)
        self.assertEqual(answer["lines"], [{"product_id": self.mug.id, "qty": 1, "discount": 0, "price_unit": 0.0,
                                            "tax_ids": self.tax10.ids, "name": "Free Mug"}])
        self.config.klodr_free_product_mode = "discount"
        data = self.order_data()
        answer = self.redeem(data, reward_id=self.reward_mug.id)
        self.assertEqual((answer["lines"][0]["price_unit"], answer["lines"][0]["discount"]), (150.0, 100))

    def test_refund_reverses_earned_and_gives_back_redeemed_points(self):
        data = self.order_data()
        answer = self.redeem(data, reward_id=self.reward_50.id)
        order = self.sync(self.order_data(extra_lines=self.ui_reward_lines(answer), uuid=data["uuid"]))
        earned = order.klodr_points_earned
        self.assertEqual(self.member.balance, 800 + earned)
        # Return everything: every line of the order, the discount lines included.
        refund_data = self.create_ui_order_data([], pos_order_ui_args={})
        refund_data["lines"] = [(0, 0, {
            "product_id": line.product_id.id, "qty": -line.qty, "price_unit": line.price_unit,
            "discount": line.discount, "tax_ids": [(6, 0, line.tax_ids.ids)], "price_subtotal": -line.price_subtotal,
            "price_subtotal_incl": -line.price_subtotal_incl, "refunded_orderline_id": line.id,
            "klodr_reward_line": line.klodr_reward_line, "pack_lot_ids": []}) for line in order.lines]
        refund_data["payment_ids"][0][2]["amount"] = refund_data["amount_paid"] = -order.amount_total
        refund_data["amount_total"] = -order.amount_total
        refund = self.sync(refund_data)
        self.assertFalse(refund.klodr_error)
        self.assertEqual(refund.klodr_points_reversed, earned)
        self.assertEqual(refund.klodr_points_returned, 200)
        self.assertEqual(self.member.balance, 1000)
        self.assertEqual(refund.klodr_balance, 1000)
        self.sync(refund_data)
        self.assertEqual(self.member.balance, 1000, "a refund synced again reverses nothing twice")

    def test_partial_refund_is_proportional(self):
        order = self.sync(self.order_data())
        line = order.lines.filtered(lambda ol: ol.product_id == self.saree)
        refund_data = self.create_ui_order_data([], pos_order_ui_args={})
        refund_data["lines"] = [(0, 0, {
            "product_id": line.product_id.id, "qty": -1, "price_unit": line.price_unit, "discount": 0,
            "tax_ids": [(6, 0, line.tax_ids.ids)], "price_subtotal": -line.price_subtotal,
            "price_subtotal_incl": -line.price_subtotal_incl, "refunded_orderline_id": line.id, "pack_lot_ids": []})]
        refund_data["payment_ids"][0][2]["amount"] = refund_data["amount_paid"] = -line.price_subtotal_incl
        refund_data["amount_total"] = -line.price_subtotal_incl
        refund = self.sync(refund_data)
        self.assertFalse(refund.klodr_error)
        # 1,234.57 of 2,247.87 refunded: 224 x 1234.57 / 2247.87 = 123.02 -> 123 points
        self.assertEqual(refund.klodr_points_reversed, 123)
        self.assertEqual(self.member.balance, 1000 + EARNED - 123)

    def test_cashier_cannot_move_points(self):
        config = self.cashier_config()
        self.assertEqual(config.klodr_find_member("+91 98450 11111")["code"], self.member.code)
        self.assertEqual(config.klodr_find_member(self.member.code)["balance"], 1000)
        member = self.member.with_user(self.cashier)
        with self.assertRaises(AccessError):
            member.read(["balance"])
        with self.assertRaises(AccessError):
            self.env["klodr.ledger.entry"].with_user(self.cashier).create({})
        with self.assertRaises(AccessError):
            self.env["klodr.adjust.wizard"].with_user(self.cashier).create({})
        # Confirmed redemptions used by a paid order cannot be taken back at the counter.
        data = self.order_data()
        answer = self.redeem(data, reward_id=self.reward_50.id)
        self.sync(self.order_data(extra_lines=self.ui_reward_lines(answer), uuid=data["uuid"]))
        cancelled = config.klodr_cancel_redemption(answer["redemption_id"])
        self.assertEqual(cancelled["error"], "redemption_not_pending")
        self.assertEqual(self.member.balance, 800 + EARNED - 5)

    def test_order_paid_without_its_reward_lines_keeps_the_points(self):
        data = self.order_data()
        answer = self.redeem(data, reward_id=self.reward_50.id)
        order = self.sync(data)  # the cashier deleted the discount lines before payment
        redemption = self.env["klodr.redemption"].browse(answer["redemption_id"])
        self.assertEqual(redemption.state, "cancelled")
        self.assertEqual(order.klodr_points_redeemed, 0)
        self.assertEqual(self.member.balance, 1000 + EARNED)
        self.assertEqual(self.member.held_points, 0)

    def test_cancel_before_payment_releases_the_hold(self):
        data = self.order_data()
        answer = self.redeem(data, reward_id=self.reward_50.id)
        self.assertEqual(self.member.held_points, 200)
        cancelled = self.cashier_config().klodr_cancel_redemption(answer["redemption_id"])
        self.assertEqual(cancelled["status"], "cancelled")
        self.assertEqual(self.member.held_points, 0)
        self.assertEqual(self.member.balance, 1000)

    def test_user_without_pos_rights_is_refused(self):
        outsider = self.env["res.users"].create({"name": "Outsider", "login": "klodr_outsider",
                                                 "company_id": self.config.company_id.id,
                                                 "company_ids": [(6, 0, self.config.company_id.ids)],
                                                 "group_ids": [(6, 0, [self.env.ref("base.group_user").id])]})
        with self.assertRaises(AccessError):
            self.config.with_user(outsider).klodr_find_member(self.member.code)

    def test_enroll_at_the_counter(self):
        config = self.cashier_config()
        member = config.klodr_enroll_member({"name": "Ravi New", "mobile": "9845022222", "birthday": "1990-05-17",
                                             "referral_code": self.member.referral_code})
        self.assertNotIn("error", member, member)
        record = self.env["klodr.member"].browse(member["id"])
        self.assertEqual((record.mobile, str(record.birthday), record.referred_by_id, record.store_id),
                         ("+919845022222", "1990-05-17", self.member, self.store))
        again = config.klodr_enroll_member({"name": "Ravi Again", "mobile": "+91 98450 22222"})
        self.assertEqual((again["error"], again["member"]["id"]), ("member_exists", record.id))

    def test_rewards_say_why_not(self):
        poor = self.env["klodr.member"].create({"name": "Poor", "program_id": self.program.id,
                                                "mobile": "9845033333"})
        catalogue = self.cashier_config().klodr_rewards(poor.id, self.browser_lines(self.order_data()["lines"]))
        reasons = {r["name"]: (r["eligible"], r["reason"]) for r in catalogue["rewards"]}
        self.assertEqual(reasons["Discount 50"], (False, "below_minimum_redemption"))
        catalogue = self.cashier_config().klodr_rewards(self.member.id, self.browser_lines(self.order_data()["lines"]))
        self.assertTrue(all(r["eligible"] for r in catalogue["rewards"]))
        self.assertEqual(catalogue["max_points"], 1000)

    def test_open_pos_is_told_when_a_balance_changes(self):
        self.env["bus.bus"].sudo().search([]).unlink()
        self.env["klodr.ledger.entry"]._post(self.member, "earn", 10, source_ref="elsewhere")
        self.env.cr.precommit.run()
        self.env["bus.bus"].flush_model()
        messages = self.env["bus.bus"].sudo().search([("channel", "like", self.config.access_token)])
        payloads = [m.message for m in messages if "KLODR_MEMBER" in m.message]
        self.assertEqual(len(payloads), 1, messages.mapped("message"))
        self.assertIn(str(self.member.id), payloads[0])
