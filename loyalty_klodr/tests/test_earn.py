from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError
from odoo.addons.loyalty_klodr.tools.rules import Line

from .common import KlodrRulesCommon


@tagged("post_install", "-at_install")
class TestEarnOrders(KlodrRulesCommon):
    def test_silver_member_5000_purchase_earns_725(self):
        member = self.make_member("9845011001", points=1200, tier=self.silver)
        txn = member._earn_order(5000, order_ref="S-1", store=self.store_a)
        self.assertEqual(txn.points_earned, 725)
        self.assertEqual(sorted(txn.award_ids.mapped(lambda a: (a.label, a.points))),
                         [("1 point per 10", 625), ("Big basket", 100)])
        entries = txn.entry_ids.sorted("entry_type")
        self.assertEqual(entries.mapped(lambda e: (e.entry_type, e.points)), [("bonus", 100), ("earn", 625)])
        self.assertEqual(member.balance, 1200 + 725)
        self.assertEqual(entries.store_id, self.store_a)
        self.assertLedgerWhole()

    def test_demo_numbers_per_tier(self):
        for mobile, points, tier, amount, expected in [
            ("9845011002", 0, self.bronze, "9999.99", 999 + 100),
            ("9845011003", 6000, self.gold, "10000", 1500 + 250),
            ("9845011004", 0, self.bronze, "9.99", 0),
        ]:
            member = self.make_member(mobile, points=points, tier=tier)
            self.assertEqual(member._earn_order(amount, order_ref=f"T-{mobile}").points_earned, expected)

    def test_tier_before_the_purchase_multiplies_then_counts(self):
        member = self.make_member("9845011005", points=900, tier=self.bronze)
        txn = member._earn_order(2000, order_ref="UP-1")
        self.assertEqual(txn.points_earned, 200)  # at Bronze x1, although it lifts the member to Silver
        self.assertEqual(member.tier_id, self.silver)
        change = member.tier_history_ids.filtered(lambda h: h.to_tier_id == self.silver)
        self.assertEqual((change.from_tier_id, change.window_points), (self.bronze, 1100))
        self.assertEqual(member._earn_order(100, order_ref="UP-2").points_earned, 12)  # floor(10 x 1.25)
        tier, needed = member._next_tier()
        self.assertEqual((tier, needed), (self.gold, 5000 - 1112))

    def test_rule_changes_apply_at_once(self):
        """Rules are compiled into a per-program cache: every change must clear it."""
        member = self.make_member("9845011013")
        self.assertEqual(member._earn_order(100, order_ref="RC-1").points_earned, 10)
        self.rule_base.points = 2
        self.assertEqual(member._earn_order(100, order_ref="RC-2").points_earned, 20)
        self.rule_bands.band_ids[:1].points = 7
        self.assertEqual(member._earn_order(5000, order_ref="RC-3").points_earned, 1000 + 7)
        self.rule_base.active = False
        self.assertEqual(member._earn_order(100, order_ref="RC-4").points_earned, 0)
        self.rule_base.unlink()
        self.assertEqual(member._earn_order(5000, order_ref="RC-5").points_earned, 7)

    def test_duplicate_order_refused_and_nothing_written(self):
        member = self.make_member("9845011006")
        member._earn_order(1000, order_ref="DUP-1")
        with self.assertRaises(LoyaltyError) as caught:
            member._earn_order(1000, order_ref="DUP-1")
        self.assertEqual(caught.exception.code, "duplicate_order")
        self.assertEqual(member.balance, 100)

    def test_bad_amounts_refused(self):
        member = self.make_member("9845011007")
        for amount in (-1, "abc", float("nan"), 10**12):
            with self.subTest(amount=amount), self.assertRaises(LoyaltyError):
                member._earn_order(amount, order_ref=f"BAD-{amount}")
        self.assertFalse(member.transaction_ids)

    def test_inactive_member_cannot_earn(self):
        member = self.make_member("9845011008")
        member.state = "blocked"
        with self.assertRaises(LoyaltyError) as caught:
            member._earn_order(100, order_ref="BLK-1")
        self.assertEqual(caught.exception.code, "member_inactive")

    def test_category_rule_counts_matching_lines(self):
        books = self.env["product.category"].create({"name": "Books"})
        fiction = self.env["product.category"].create({"name": "Fiction", "parent_id": books.id})
        self.env["klodr.earn.rule"].create({
            "program_id": self.program.id, "name": "Books x5", "kind": "amount", "points": 5, "spend_unit": 100,
            "product_category_ids": [(6, 0, books.ids)]})
        member = self.make_member("9845011009")
        lines = [Line(amount=400, quantity=1, product="1", categories=frozenset({str(books.id), str(fiction.id)})),
                 Line(amount=600, quantity=2, product="2", categories=frozenset())]
        txn = member._earn_order(1000, order_ref="BK-1", lines=lines)
        self.assertEqual(sorted(txn.award_ids.mapped(lambda a: (a.label, a.points))),
                         [("1 point per 10", 100), ("Books x5", 20)])

    def test_exclusive_rule_replaces_base_rules(self):
        self.env["klodr.earn.rule"].create({
            "program_id": self.program.id, "name": "Staff day", "kind": "fixed", "points": 7, "exclusive": True,
            "sequence": 0, "tier_multiplied": False})
        member = self.make_member("9845011010")
        self.assertEqual(member._earn_order(6000, order_ref="EX-1").points_earned, 7)

    def test_weekday_and_store_conditions(self):
        self.env["klodr.earn.rule"].create({
            "program_id": self.program.id, "name": "Weekend at A", "kind": "fixed", "points": 30,
            "tier_multiplied": False, "weekdays": "67", "store_ids": [(6, 0, self.store_a.ids)]})
        member = self.make_member("9845011011")
        saturday = datetime(2026, 7, 18, 6, 0)  # 11:30 in Kolkata
        self.assertEqual(member._earn_order(100, order_ref="WD-1", when=saturday, store=self.store_a)
                         .points_earned, 40)
        self.assertEqual(member._earn_order(100, order_ref="WD-2", when=saturday, store=self.store_b)
                         .points_earned, 10)
        self.assertEqual(member._earn_order(100, order_ref="WD-3", when=saturday - timedelta(days=1),
                                            store=self.store_a).points_earned, 10)

    def test_segment_condition(self):
        vip = self.env["res.partner"].create({"name": "VIP", "ref": "VIP"})
        self.env["klodr.earn.rule"].create({
            "program_id": self.program.id, "name": "VIP bonus", "kind": "fixed", "points": 50,
            "tier_multiplied": False, "partner_domain": "[('ref', '=', 'VIP')]"})
        member = self.make_member("9845011012")
        self.assertEqual(member._earn_order(100, order_ref="SEG-1").points_earned, 10)
        member.partner_id = vip
        self.assertEqual(member._earn_order(100, order_ref="SEG-2").points_earned, 60)


@tagged("post_install", "-at_install")
class TestCampaigns(KlodrRulesCommon):
    def test_double_points_layer_over_base_rules(self):
        self.env["klodr.campaign"].create({"program_id": self.program.id, "name": "Double July",
                                           "date_from": date(2026, 7, 1), "date_to": date(2026, 7, 31),
                                           "multiplier": 2.0})
        member = self.make_member("9845012001")
        in_july = member._earn_order(5000, order_ref="C-1", when=datetime(2026, 7, 10, 8, 0))
        self.assertEqual(in_july.points_earned, 500 + 100 + 500)
        self.assertEqual(self.rule_base.points, 1, "a campaign never changes the base rule")
        after = member._earn_order(5000, order_ref="C-2", when=datetime(2026, 8, 10, 8, 0))
        self.assertEqual(after.points_earned, 625 + 100)  # Silver now, and no campaign in August

    def test_promo_code_once_per_member(self):
        self.env["klodr.campaign"].create({"program_id": self.program.id, "name": "FEST", "promo_code": "FEST50",
                                           "date_from": date(2020, 1, 1), "date_to": date(2099, 1, 1),
                                           "multiplier": 1.0, "bonus_points": 50})
        member = self.make_member("9845012002")
        self.assertEqual(member._earn_order(100, order_ref="P-1").points_earned, 10)
        self.assertEqual(member._earn_order(100, order_ref="P-2", promo_codes=["fest50"]).points_earned, 60)
        self.assertEqual(member._earn_order(100, order_ref="P-3", promo_codes=["FEST50"]).points_earned, 10)
        other = self.make_member("9845012003")
        self.assertEqual(other._earn_order(100, order_ref="P-4", promo_codes=["FEST50"]).points_earned, 60)
        self.assertLedgerWhole()


@tagged("post_install", "-at_install")
class TestEventsAndReferral(KlodrRulesCommon):
    def test_enroll_gives_welcome_once(self):
        member = self.env["klodr.member"]._enroll(self.program, {"name": "New", "mobile": "98450 13001"},
                                                  store=self.store_a)
        self.assertEqual(member.balance, 100)
        self.assertEqual(member.store_id, self.store_a)
        member._earn_event("signup", ref=f"member:{member.id}")
        self.assertEqual(member.balance, 100)
        with self.assertRaises(LoyaltyError) as caught:
            self.env["klodr.member"]._enroll(self.program, {"name": "Again", "mobile": "+919845013001"})
        self.assertEqual((caught.exception.code, caught.exception.details["member_id"]), ("member_exists", member.id))

    def test_referral_rewards_both_once(self):
        referrer = self.env["klodr.member"]._enroll(self.program, {"name": "Ref", "mobile": "9845013002"})
        referee = self.env["klodr.member"]._enroll(self.program, {"name": "New", "mobile": "9845013003"},
                                                   referral_code=referrer.referral_code.lower())
        self.assertEqual(referee.referred_by_id, referrer)
        self.assertEqual(referee.balance, 200)
        self.assertEqual(referrer.balance, 100)
        referee._earn_order(100, order_ref="R-1")
        self.assertEqual(referrer.balance, 300)
        referee._earn_order(100, order_ref="R-2")
        self.assertEqual(referrer.balance, 300)
        self.assertLedgerWhole()

    def test_bad_referrals_refused(self):
        referrer = self.env["klodr.member"]._enroll(self.program, {"name": "Ref", "mobile": "9845013004",
                                                                   "email": "same@example.com"})
        for vals, code in [({"mobile": "9845013005"}, "NOSUCHCODE"),
                           ({"mobile": "9845013006", "email": "same@example.com"}, referrer.referral_code)]:
            with self.assertRaises(LoyaltyError):
                self.env["klodr.member"]._enroll(self.program, dict(vals, name="X"), referral_code=code)
        self.assertFalse(self.env["klodr.member"].search([("mobile", "in", ["+919845013005", "+919845013006"])]))

    def test_checkin_once_a_day_in_program_timezone(self):
        member = self.make_member("9845013007")
        day = datetime(2026, 3, 2, 4, 0)  # 09:30 in Kolkata
        member._earn_event("checkin", ref="c1", when=day)
        with self.assertRaises(LoyaltyError) as caught:
            member._earn_event("checkin", ref="c2", when=day + timedelta(hours=10))  # 19:30, same local day
        self.assertEqual(caught.exception.code, "cap_reached")
        member._earn_event("checkin", ref="c3", when=day + timedelta(hours=15))  # 00:30 next local day
        self.assertEqual(member.balance, 40)
        # replaying a reference gives nothing more
        member._earn_event("checkin", ref="c3", when=day + timedelta(hours=15))
        self.assertEqual(member.balance, 40)

    def test_review_three_a_month(self):
        member = self.make_member("9845013008")
        for number in range(3):
            member._earn_event("review", ref=f"r{number}", when=datetime(2026, 3, 5 + number, 6, 0))
        with self.assertRaises(LoyaltyError):
            member._earn_event("review", ref="r3", when=datetime(2026, 3, 30, 6, 0))
        member._earn_event("review", ref="r4", when=datetime(2026, 4, 1, 6, 0))
        self.assertEqual(member.balance, 200)

    def test_unknown_event_refused(self):
        member = self.make_member("9845013009")
        with self.assertRaises(LoyaltyError):
            member._earn_event("moon_landing", ref="x")
        self.assertEqual(member.balance, 0)

    def test_birthday_cron_once_a_year(self):
        self.env["klodr.earn.rule"].create({"program_id": self.program.id, "name": "Birthday", "kind": "event",
                                            "event": "birthday", "points": 150, "tier_multiplied": False})
        member = self.make_member("9845013010")
        member.birthday = date(1990, 3, 14)
        other = self.make_member("9845013011")
        other.birthday = date(1990, 3, 15)
        programs_before = self.env["klodr.program"].search([])
        with freeze_time("2026-03-14 05:00:00"):
            self.env["klodr.member"]._grant_birthdays()
            self.env["klodr.member"]._grant_birthdays()
        self.assertEqual((member.balance, other.balance), (150, 0))
        self.assertEqual(self.env["klodr.program"].search([]), programs_before)


@tagged("post_install", "-at_install")
class TestTiers(KlodrRulesCommon):
    def test_window_edges_and_nightly_downgrade(self):
        with freeze_time("2025-01-10 10:00:00"):
            member = self.make_member("9845014001")
            member._earn_order(12000, order_ref="OLD-1")  # 1200 + 250 -> Silver
        self.assertEqual(member.tier_id, self.silver)
        with freeze_time("2026-01-10 09:00:00"):  # the purchase is still in the 12-month window
            member._recompute_tier(allow_downgrade=True)
            self.assertEqual(member.tier_id, self.silver)
        with freeze_time("2026-01-10 11:00:00"):  # a year and an hour later it is not
            member._earn_order(10, order_ref="NEW-1")
            self.assertEqual(member.tier_id, self.silver, "no downgrade while earning")
            self.env["klodr.member"]._recompute_all_tiers()
            self.assertEqual(member.tier_id, self.bronze)
        self.assertEqual(member.tier_history_ids[0].to_tier_id, self.bronze)

    def test_refunds_count_against_the_window_not_the_balance(self):
        member = self.make_member("9845014002")
        member._earn_order(10000, order_ref="W-1")  # 1000 + 250
        self.ledger._post(member, "redeem", -1200)
        self.assertEqual(member.tier_id, self.silver, "spending points keeps the tier")
        self.ledger._post(member, "refund", -400)
        member._recompute_tier(allow_downgrade=True)
        self.assertEqual(member.tier_id, self.bronze)

    def test_spend_threshold(self):
        self.gold.threshold_amount = 100000
        member = self.make_member("9845014003", points=6000)
        self.assertEqual(member.tier_id, self.silver)
        member._earn_order(100000, order_ref="BIG-1")
        self.assertEqual(member.tier_id, self.gold)


@tagged("post_install", "-at_install")
class TestSimulator(KlodrRulesCommon):
    def test_simulator_shows_points_without_writing(self):
        simulator = self.env["klodr.rule.simulator"].create({
            "program_id": self.program.id, "tier_id": self.silver.id, "amount": 5000})
        self.assertEqual(simulator.points, 725)
        self.assertIn("Big basket", simulator.breakdown_html)
        member = self.make_member("9845015001", points=6000, tier=self.gold)
        simulator.member_id = member
        self.assertEqual(simulator.points, 750 + 100)
        self.assertEqual(member.balance, 6000)
        self.assertFalse(member.transaction_ids)

    def test_simulator_basket_lines(self):
        category = self.env["product.category"].create({"name": "Toys"})
        product = self.env["product.product"].create({"name": "Kite", "categ_id": category.id, "lst_price": 250})
        self.env["klodr.earn.rule"].create({"program_id": self.program.id, "name": "Toys +3/unit",
                                            "kind": "per_unit", "points": 3, "tier_multiplied": False,
                                            "product_category_ids": [(6, 0, category.ids)]})
        simulator = self.env["klodr.rule.simulator"].create({
            "program_id": self.program.id, "tier_id": self.bronze.id, "amount": 750,
            "line_ids": [(0, 0, {"product_id": product.id, "quantity": 3, "amount": 750})]})
        self.assertEqual(simulator.points, 75 + 9)


@tagged("post_install", "-at_install")
class TestStampCards(KlodrRulesCommon):
    def setUp(self):
        super().setUp()
        self.cafe = self.env["klodr.program"].create({
            "name": "Cafe Card", "program_type": "stamps", "stamps_per_card": 3, "expiry_policy": "never",
            "min_redeem_balance": 0})
        espresso = self.env["product.product"].create({"name": "Espresso", "lst_price": 150})
        self.coffee = self.env["klodr.reward"].create({
            "name": "Free coffee", "program_id": self.cafe.id, "reward_type": "free_product", "points_cost": 3,
            "value": 150, "stock": 2, "product_id": espresso.id})
        self.cafe.stamp_reward_id = self.coffee
        self.env["klodr.earn.rule"].create({"program_id": self.cafe.id, "name": "A stamp per visit",
                                            "kind": "fixed", "points": 1, "min_amount": 100,
                                            "tier_multiplied": False})
        self.guest = self.env["klodr.member"].create({"name": "Guest", "program_id": self.cafe.id,
                                                      "mobile": "9845016001"})

    def test_full_card_issues_its_reward_automatically(self):
        for number in range(1, 3):
            self.guest._earn_order(120, order_ref=f"CAFE-{number}")
        self.guest._earn_order(80, order_ref="CAFE-small")  # below the minimum: no stamp
        self.assertEqual(self.guest.balance, 2)
        self.assertFalse(self.env["klodr.reward.issue"].search([("member_id", "=", self.guest.id)]))
        self.guest._earn_order(150, order_ref="CAFE-3")
        issue = self.env["klodr.reward.issue"].search([("member_id", "=", self.guest.id)])
        self.assertEqual((len(issue), issue.reward_id, issue.points), (1, self.coffee, 3))
        self.assertEqual(self.guest.balance, 0)
        for number in range(4, 10):
            self.guest._earn_order(120, order_ref=f"CAFE-{number}")
        # a second card filled, the third waits: the reward's stock (2) is used up
        self.assertEqual(self.env["klodr.reward.issue"].search_count([("member_id", "=", self.guest.id)]), 2)
        self.assertEqual(self.guest.balance, 3)
        self.assertFalse(self.ledger._verify_ledger(program_ids=self.cafe.ids))


@tagged("post_install", "-at_install")
class TestRefunds(KlodrRulesCommon):
    def test_half_then_the_rest_reverses_exactly_what_was_earned(self):
        member = self.make_member("9845018001", points=1200, tier=self.silver)
        txn = member._earn_order(5000, order_ref="RF-1")
        self.assertEqual(txn.points_earned, 725)
        first = txn._refund("RF-1-a", 2500)
        self.assertEqual(first.points_reversed, 363)
        self.assertEqual(txn._refund("RF-1-a", 2500), first, "the same refund reference replays")
        with self.assertRaises(LoyaltyError):
            txn._refund("RF-1-a", 100)
        second = txn._refund("RF-1-b", "2500.00")
        self.assertEqual(first.points_reversed + second.points_reversed, 725)
        self.assertEqual((txn.refunded_amount, txn.points_reversed), (5000, 725))
        self.assertEqual(member.balance, 1200)
        for amount in (0.01, -5, "x"):
            with self.assertRaises(LoyaltyError):
                txn._refund(f"RF-1-{amount}", amount)
        self.assertLedgerWhole()

    def test_refund_may_leave_a_negative_balance_that_blocks_redemption(self):
        member = self.make_member("9845018002")
        txn = member._earn_order(10000, order_ref="RF-2")  # 1000 + 250
        self.ledger._post(member, "redeem", -1200)
        txn._refund("RF-2-all", 10000)
        self.assertEqual(member.balance, 50 - 1250)
        with self.assertRaises(LoyaltyError):
            self.ledger._post(member, "redeem", -1)
        self.assertLedgerWhole()

    def test_points_redeemed_on_the_order_come_back(self):
        self.program.otp_required = False
        member = self.make_member("9845018003", points=900, tier=self.bronze)
        self.env["klodr.redemption"]._start(member, points=400, order_ref="RF-3", order_amount=2000)
        txn = member._earn_order(2000, order_ref="RF-3")  # 200 earned at Bronze
        self.assertEqual(member.balance, 900 - 400 + 200)
        refund = txn._refund("RF-3-half", 1000)
        self.assertEqual((refund.points_reversed, refund.points_returned), (100, 200))
        self.assertEqual(member.balance, 700 - 100 + 200)
        self.assertLedgerWhole()

    def test_redeemed_points_come_back_once_by_refund_and_cancel(self):
        """A refund gave back half of what was redeemed on the order: cancelling the
        redemption gives back only the other half, and a later refund nothing more."""
        self.program.otp_required = False
        member = self.make_member("9845018004", points=900, tier=self.bronze)
        redemption = self.env["klodr.redemption"]._start(member, points=400, order_ref="RF-4", order_amount=2000)
        txn = member._earn_order(2000, order_ref="RF-4")  # 200 earned at Bronze
        first = txn._refund("RF-4-half", 1000)
        self.assertEqual((first.points_reversed, first.points_returned, redemption.points_returned),
                         (100, 200, 200))
        redemption._cancel()
        self.assertEqual((redemption.state, redemption.reversal_entry_id.points), ("reversed", 200))
        rest = txn._refund("RF-4-rest", 1000)
        self.assertEqual((rest.points_reversed, rest.points_returned), (100, 0))
        # earned 200 and reversed it all; redeemed 400 and got 400 back: the opening 900 is left
        self.assertEqual(member.balance, 900)
        self.assertLedgerWhole()

    def test_cancel_after_a_full_refund_gives_nothing_more(self):
        self.program.otp_required = False
        member = self.make_member("9845018005", points=900, tier=self.bronze)
        redemption = self.env["klodr.redemption"]._start(member, points=400, order_ref="RF-5", order_amount=2000)
        txn = member._earn_order(2000, order_ref="RF-5")
        txn._refund("RF-5-all", 2000)
        self.assertEqual(member.balance, 900)
        redemption._cancel()
        self.assertEqual(redemption.state, "reversed")
        self.assertFalse(redemption.reversal_entry_id)
        self.assertEqual(member.balance, 900)
        self.assertLedgerWhole()
