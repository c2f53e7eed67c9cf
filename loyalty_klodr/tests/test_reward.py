import base64
from datetime import date, timedelta

import psycopg2
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError

from .common_rewards import KlodrRewardsCommon


@tagged("post_install", "-at_install")
class TestRewardEligibility(KlodrRewardsCommon):
    def setUp(self):
        super().setUp()
        self.post(self.member, "earn", 500, store=self.store_a)
        self.set_tier(self.member, self.bronze)

    def assertRefused(self, reward, code, member=None, reason=None, **kwargs):
        eligible, refusal = reward._eligibility(member or self.member, **kwargs)
        self.assertFalse(eligible)
        self.assertEqual(refusal, code)
        if reason:
            self.assertEqual(refusal.details.get("reason"), reason)
        return refusal

    def test_eligible(self):
        self.assertEqual(self.discount_50._eligibility(self.member), (True, False))
        self.assertEqual(self.discount_50._eligibility(self.member, order_amount=100), (True, False))

    def test_member_inactive(self):
        self.member.state = "blocked"
        self.assertRefused(self.discount_50, "member_inactive")

    def test_reward_archived(self):
        self.discount_50.active = False
        self.assertRefused(self.discount_50, "reward_unavailable", reason="inactive")

    def test_date_window(self):
        self.discount_50.write({"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)})
        self.assertRefused(self.discount_50, "reward_unavailable", reason="not_started", today=date(2026, 2, 28))
        self.assertEqual(self.discount_50._eligibility(self.member, today=date(2026, 3, 1)), (True, False))
        self.assertEqual(self.discount_50._eligibility(self.member, today=date(2026, 3, 31)), (True, False))
        self.assertRefused(self.discount_50, "reward_unavailable", reason="ended", today=date(2026, 4, 1))
        with freeze_time("2026-04-02"):
            with self.assertRaises(LoyaltyError) as caught:
                self.issue(self.discount_50)
        self.assertEqual((caught.exception.code, caught.exception.details["reason"]), ("reward_unavailable", "ended"))
        with self.assertRaises(psycopg2.errors.CheckViolation), mute_logger("odoo.sql_db"), \
                self.env.cr.savepoint():
            self.discount_50.write({"date_from": date(2026, 5, 1), "date_to": date(2026, 4, 1)})
            self.discount_50.flush_recordset()

    def test_tier_restricted(self):
        self.post(self.member, "earn", 2000)
        self.assertRefused(self.lounge, "tier_restricted")
        self.set_tier(self.member, self.silver)
        self.assertRefused(self.lounge, "tier_restricted")
        self.set_tier(self.member, self.gold)
        self.assertEqual(self.lounge._eligibility(self.member), (True, False))
        # a member without a tier ranks below every tier
        self.member.tier_id = False
        self.assertRefused(self.lounge, "tier_restricted")
        # an archived tier still ranks by its threshold
        self.gold.active = False
        self.set_tier(self.member, self.gold)
        self.assertEqual(self.lounge._eligibility(self.member), (True, False))

    def test_tier_ranked_by_threshold_not_by_creation(self):
        platinum = self.env["klodr.tier"].create({"name": "Platinum", "program_id": self.program.id,
                                                  "threshold_points": 3000, "sequence": 1})
        self.lounge.min_tier_id = platinum
        self.post(self.member, "earn", 2000)
        self.set_tier(self.member, self.silver)
        self.assertRefused(self.lounge, "tier_restricted")
        self.set_tier(self.member, self.gold)  # created before Platinum, but above it
        self.assertEqual(self.lounge._eligibility(self.member), (True, False))

    def test_out_of_stock(self):
        self.discount_50.stock = 0
        self.assertRefused(self.discount_50, "out_of_stock")
        self.discount_50.stock = -1
        self.assertEqual(self.discount_50._eligibility(self.member), (True, False))

    def test_per_member_limit(self):
        self.discount_50.limit_per_member = 1
        first = self.issue(self.discount_50)
        refusal = self.assertRefused(self.discount_50, "reward_unavailable", reason="limit_reached")
        self.assertEqual((refusal.details["limit"], refusal.details["used"]), (1, 1))
        with self.assertRaises(LoyaltyError) as caught:
            self.issue(self.discount_50)
        self.assertEqual(caught.exception.code, "reward_unavailable")
        self.assertEqual(caught.exception.details["reason"], "limit_reached")
        # another member is not limited by it; a cancelled issue does not count
        self.post(self.member_2, "earn", 500)
        self.assertEqual(self.discount_50._eligibility(self.member_2), (True, False))
        first._cancel()
        self.assertEqual(self.discount_50._eligibility(self.member), (True, False))
        self.assertTrue(self.issue(self.discount_50))

    def test_below_minimum_and_insufficient_points(self):
        self.post(self.member_2, "earn", 99)
        self.assertRefused(self.discount_50, "below_minimum_redemption", member=self.member_2)
        self.post(self.member_2, "earn", 1)
        self.assertRefused(self.discount_50, "insufficient_points", member=self.member_2, reason="not_enough")
        self.post(self.member_2, "earn", 100)
        self.assertEqual(self.discount_50._eligibility(self.member_2), (True, False))
        # points held by a pending redemption are not spendable
        self.env["klodr.ledger.hold"]._place(self.member_2, 50)
        self.assertRefused(self.discount_50, "insufficient_points", member=self.member_2)
        self.env["klodr.ledger.hold"]._place(self.member_2, 60)
        self.assertRefused(self.discount_50, "below_minimum_redemption", member=self.member_2)

    def test_negative_balance_is_insufficient_points(self):
        self.post(self.member_2, "earn", 300)
        self.post(self.member_2, "refund", -400)
        self.assertEqual(self.member_2.balance, -100)
        refusal = self.assertRefused(self.discount_50, "insufficient_points", member=self.member_2,
                                     reason="negative_balance")
        self.assertEqual(refusal.details["balance"], -100)
        self.program.min_redeem_balance = 0
        self.assertRefused(self.discount_50, "insufficient_points", member=self.member_2, reason="negative_balance")

    def test_exceeds_max_redemption(self):
        # at most 50% of the order: a 50 discount needs an order of 100
        self.assertRefused(self.discount_50, "exceeds_max_redemption", order_amount=99.99)
        self.assertEqual(self.discount_50._eligibility(self.member, order_amount=100), (True, False))
        percent = self.make_reward("60% off", reward_type="discount_percent", points_cost=100, discount_percent=60)
        self.assertRefused(percent, "exceeds_max_redemption", order_amount=1000)
        percent.max_discount = 500
        self.assertEqual(percent._eligibility(self.member, order_amount=1000), (True, False))
        # a product delivered does not pay the order
        self.post(self.member, "earn", 1000)
        self.assertEqual(self.coffee_mug._eligibility(self.member, order_amount=10), (True, False))

    def test_most_fundamental_reason_first(self):
        self.lounge.write({"stock": 0, "active": False})
        self.member.state = "blocked"
        self.assertRefused(self.lounge, "member_inactive")
        self.member.state = "active"
        self.assertRefused(self.lounge, "reward_unavailable")
        self.lounge.active = True
        self.assertRefused(self.lounge, "tier_restricted")
        self.set_tier(self.member, self.gold)
        self.assertRefused(self.lounge, "out_of_stock")
        self.lounge.stock = 3
        self.assertRefused(self.lounge, "insufficient_points")

    def test_catalogue_for_a_member(self):
        rewards = self.discount_50 | self.coffee_mug | self.lounge
        result = rewards._eligibility_by_reward(self.member)
        self.assertEqual(result[self.discount_50.id], (True, False))
        self.assertEqual(result[self.coffee_mug.id][1], "insufficient_points")
        self.assertEqual(result[self.lounge.id][1], "tier_restricted")

    def test_reward_of_another_program(self):
        other = self.env["klodr.program"].create({"name": "Other", "company_id": self.company.id})
        reward = self.env["klodr.reward"].create({"name": "Elsewhere", "program_id": other.id,
                                                  "reward_type": "discount_fixed", "value": 10, "points_cost": 10})
        self.assertRefused(reward, "reward_unavailable", reason="other_program")


@tagged("post_install", "-at_install")
class TestRewardIssue(KlodrRewardsCommon):
    def setUp(self):
        super().setUp()
        self.post(self.member, "earn", 5000)
        self.post(self.member_2, "earn", 5000)

    def test_finite_stock_decrements_to_out_of_stock(self):
        self.coffee_mug.stock = 2
        first = self.issue(self.coffee_mug, ref="POS-1")
        self.assertEqual((self.coffee_mug.stock, self.coffee_mug.stock_remaining), (1, 1))
        self.assertEqual((first.state, first.points, first.value, first.source_ref, first.company_id),
                         ("issued", 1000, 250.0, "POS-1", self.company))
        self.issue(self.coffee_mug, member=self.member_2)
        self.assertEqual(self.coffee_mug.stock, 0)
        self.assertEqual(self.coffee_mug._eligibility(self.member)[1], "out_of_stock")
        with self.assertRaises(LoyaltyError) as caught:
            self.issue(self.coffee_mug)
        self.assertEqual(caught.exception.code, "out_of_stock")
        self.assertEqual(self.coffee_mug.issue_count, 2)
        # a cancelled issue gives its unit back
        first._cancel()
        self.assertEqual((first.state, self.coffee_mug.stock), ("cancelled", 1))
        self.assertEqual(self.coffee_mug.issue_count, 1)

    def test_stale_cached_stock_cannot_oversell(self):
        self.coffee_mug.stock = 1
        self.coffee_mug.flush_recordset()
        self.env.cr.execute("UPDATE klodr_reward SET stock = 0 WHERE id = %s", [self.coffee_mug.id])
        # the ORM cache still says 1: the conditional UPDATE decides
        self.assertEqual(self.coffee_mug.stock, 1)
        with self.assertRaises(LoyaltyError) as caught:
            self.issue(self.coffee_mug)
        self.assertEqual(caught.exception.code, "out_of_stock")
        self.assertEqual(self.coffee_mug.stock, 0)

    def test_unlimited_stock_stays_unlimited(self):
        for _ in range(3):
            self.issue(self.discount_50)
        self.assertEqual((self.discount_50.stock, self.discount_50.stock_remaining), (-1, -1))
        self.assertEqual(self.discount_50._eligibility(self.member), (True, False))

    def test_issue_moves_no_points(self):
        balance = self.member.balance
        entries = self.env["klodr.ledger.entry"].search_count([("member_id", "=", self.member.id)])
        self.issue(self.discount_50)
        self.assertEqual(self.member.balance, balance)
        self.assertEqual(self.env["klodr.ledger.entry"].search_count([("member_id", "=", self.member.id)]), entries)

    def test_issue_checks_the_rewards_conditions_not_the_points(self):
        self.member.state = "blocked"
        with self.assertRaises(LoyaltyError) as caught:
            self.issue(self.discount_50)
        self.assertEqual(caught.exception.code, "member_inactive")
        with self.assertRaises(LoyaltyError) as caught:
            self.issue(self.lounge, member=self.member_2)
        self.assertEqual(caught.exception.code, "tier_restricted")
        poor = self.env["klodr.member"].create({"name": "Poor", "program_id": self.program.id,
                                                "mobile": "9845000077"})
        self.assertTrue(self.issue(self.discount_50, member=poor))  # the redemption checks points

    def test_voucher_pool(self):
        voucher = self.make_voucher(codes=["GC-001", "GC-002", "GC-003"])
        self.assertEqual((voucher.stock_remaining, voucher.code_available_count, voucher.code_count), (3, 3, 3))
        first = self.issue(voucher, ref="R-1")
        second = self.issue(voucher, member=self.member_2, ref="R-2")
        self.assertTrue(first.code_id and second.code_id)
        self.assertNotEqual(first.code_id, second.code_id)
        self.assertEqual(first.code_id.member_id, self.member)
        self.assertEqual((first.code_id.state, first.code_id.issue_id), ("issued", first))
        self.assertTrue(first.code_id.issued_date)
        self.assertEqual(voucher.stock_remaining, 1)
        self.issue(voucher)
        self.assertEqual(voucher.stock_remaining, 0)
        self.assertEqual(voucher._eligibility(self.member)[1], "out_of_stock")
        with self.assertRaises(LoyaltyError) as caught:
            self.issue(voucher)
        self.assertEqual(caught.exception.code, "out_of_stock")
        self.assertEqual(len(voucher.issue_ids), 3)
        # a cancelled voucher issue does not put its (already sent) code back
        first._cancel()
        self.assertEqual(voucher.stock_remaining, 0)

    def test_empty_pool_is_out_of_stock(self):
        voucher = self.make_voucher()
        self.assertEqual(voucher.stock_remaining, 0)
        self.assertEqual(voucher._eligibility(self.member)[1], "out_of_stock")
        with self.assertRaises(LoyaltyError) as caught:
            self.issue(voucher)
        self.assertEqual(caught.exception.code, "out_of_stock")
        self.assertFalse(voucher.issue_ids)

    def test_voucher_code_sent_by_email(self):
        voucher = self.make_voucher(codes=["MAIL-42"], delivery_channel="email")
        self.member.email = "priya@example.com"
        issue = self.issue(voucher)
        self.assertEqual((issue.delivery_channel, issue.delivery_state), ("email", "queued"))
        mail = self.env["mail.mail"].search([("email_to", "=", "priya@example.com")])
        self.assertEqual(len(mail), 1)
        self.assertIn("MAIL-42", mail.body_html)
        # never in the member's chatter
        self.assertFalse(self.member.message_ids.filtered(lambda m: "MAIL-42" in (m.body or "")))
        sms_voucher = self.make_voucher("SMS voucher", codes=["SMS-1"])
        sms_issue = self.issue(sms_voucher)
        self.assertEqual((sms_issue.delivery_channel, sms_issue.delivery_state), ("sms", "pending"))

    def test_import_wizard(self):
        voucher = self.make_voucher(codes=["GC-001"])
        env = self.env(user=self.user_manager)
        wizard = env["klodr.reward.code.import"].create({
            "reward_id": voucher.id, "codes_text": "GC-001\nGC-002\n\n GC-003 \nGC-002"})
        wizard.action_import()
        csv = "code,face value\nGC-004,500\nGC-003,500\n"
        env["klodr.reward.code.import"].create({
            "reward_id": voucher.id, "file": base64.b64encode(csv.encode()), "filename": "codes.csv"}).action_import()
        self.assertEqual(sorted(voucher.code_ids.mapped("code")), ["GC-001", "GC-002", "GC-003", "GC-004"])
        self.assertEqual(voucher.stock_remaining, 4)
        with self.assertRaises(UserError):
            env["klodr.reward.code.import"].create({"reward_id": voucher.id, "codes_text": "\n \n"}).action_import()
        with self.assertRaises(UserError):
            env["klodr.reward.code.import"].create({"reward_id": self.discount_50.id,
                                                    "codes_text": "X"}).action_import()
        with self.assertRaises(AccessError):
            self.env(user=self.user_cashier)["klodr.reward.code.import"].create(
                {"reward_id": voucher.id, "codes_text": "X"})

    def test_issued_code_is_immutable(self):
        voucher = self.make_voucher(codes=["Z-1", "Z-2"])
        issue = self.issue(voucher)
        with self.assertRaises(UserError):
            issue.code_id.code = "Z-9"
        with self.assertRaises(UserError):
            issue.code_id.unlink()
        with self.assertRaises(psycopg2.errors.UniqueViolation), mute_logger("odoo.sql_db"), \
                self.env.cr.savepoint():
            self.env["klodr.reward.code"].create({"reward_id": voucher.id, "code": "Z-2"})
            self.env.flush_all()

    def test_issue_record_is_guarded(self):
        issue = self.issue(self.discount_50)
        env = self.env(user=self.user_cashier)
        with self.assertRaises(UserError):
            env["klodr.reward.issue"].create({"reward_id": self.discount_50.id, "member_id": self.member.id,
                                              "company_id": self.company.id})
        with self.assertRaises(UserError):
            issue.with_env(env).write({"points": 1})
        issue.with_env(env).action_mark_used()
        self.assertEqual(issue.state, "used")
        with self.assertRaises(AccessError):
            issue.with_env(env).action_cancel()
        with self.assertRaises(AccessError):
            issue.with_env(env).unlink()


@tagged("post_install", "-at_install")
class TestRewardDefinition(KlodrRewardsCommon):
    def test_discount_amount(self):
        self.assertEqual(self.discount_50._discount_amount(200), 50.0)
        self.assertEqual(self.discount_50._discount_amount(30), 30.0)
        percent = self.make_reward("10% off", reward_type="discount_percent", points_cost=100,
                                   discount_percent=10, max_discount=100)
        self.assertEqual(percent._discount_amount(199.95), 20.0)  # 19.995 rounds half up
        self.assertEqual(percent._discount_amount(5000), 100.0)
        free_mug = self.make_reward("Free mug", reward_type="free_product", points_cost=800, product_id=self.mug.id)
        self.assertEqual(free_mug.value, 250.0)  # the product's price
        self.assertEqual(free_mug._discount_amount(1000), 250.0)
        self.assertEqual(self.coffee_mug._discount_amount(1000), 0.0)  # delivered, not taken off the order

    def test_type_requirements(self):
        with self.assertRaises(ValidationError):
            self.make_reward("No amount", value=0, points_cost=10)
        with self.assertRaises(ValidationError):
            self.make_reward("No percent", reward_type="discount_percent", points_cost=10)
        with self.assertRaises(ValidationError):
            self.make_reward("No product", reward_type="product", points_cost=10)
        with self.assertRaises(ValidationError):
            self.make_reward("No cause", reward_type="donation", points_cost=10, value=10)
        charity = self.env["res.partner"].create({"name": "Akshaya Patra"})
        donation = self.make_reward("Feed a child", reward_type="donation", points_cost=400, value=100,
                                    donation_partner_id=charity.id)
        self.assertEqual(donation.donation_partner_id, charity)
        with self.assertRaises(ValidationError):
            self.make_voucher(codes=()).code_ids.create({"reward_id": self.discount_50.id, "code": "X"})

    def test_sql_constraints(self):
        for values in ({"points_cost": 0}, {"points_cost": -5}, {"stock": -2}, {"limit_per_member": -1},
                       {"discount_percent": 150}):
            with self.subTest(values=values), self.assertRaises(psycopg2.errors.CheckViolation), \
                    mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                self.discount_50.write(values)
                self.discount_50.flush_recordset()

    def test_min_tier_of_another_program_refused(self):
        other = self.env["klodr.program"].create({"name": "Other", "company_id": self.company.id})
        foreign = self.env["klodr.tier"].create({"name": "Elite", "program_id": other.id})
        with self.assertRaises(ValidationError):
            self.discount_50.min_tier_id = foreign

    def test_reward_views_open(self):
        for view_type in ("kanban", "list", "form", "search"):
            self.assertTrue(self.env["klodr.reward"].get_view(view_type=view_type)["arch"])
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_reward_action")
        self.assertTrue(action["view_mode"].startswith("kanban"))


@tagged("post_install", "-at_install")
class TestRewardSecurity(KlodrRewardsCommon):
    def test_other_company_sees_no_rewards(self):
        voucher = self.make_voucher(codes=["SECRET-1", "SECRET-2"])
        self.post(self.member, "earn", 500)
        issue = self.issue(voucher)
        env = self.env(user=self.other_manager)
        for model, record in [("klodr.reward", self.discount_50), ("klodr.reward.code", issue.code_id),
                              ("klodr.reward.issue", issue)]:
            with self.subTest(model=model):
                self.assertFalse(env[model].search([]))
                with self.assertRaises(AccessError):
                    record.with_env(env).read(["display_name"])
        with self.assertRaises(AccessError):
            self.discount_50.with_env(env).write({"points_cost": 1})

    def test_cashier_reads_catalogue_issues_but_not_the_pool(self):
        voucher = self.make_voucher(codes=["POOL-1", "POOL-2"])
        self.post(self.member, "earn", 500)
        env = self.env(user=self.user_cashier)
        self.assertIn(self.discount_50, env["klodr.reward"].search([]))
        with self.assertRaises(AccessError):
            self.discount_50.with_env(env).write({"points_cost": 1})
        # the cashier gives a reward with their own rights...
        issue = self.issue(voucher, env=env)
        self.assertEqual(issue.code_id.with_env(env).code, "POOL-1")
        self.assertEqual(voucher.with_env(env).stock_remaining, 1)
        # ...but never reads codes not yet given
        self.assertEqual(env["klodr.reward.code"].search([("reward_id", "=", voucher.id)]).mapped("code"), ["POOL-1"])
        self.assertFalse(env["klodr.reward.code"].search([("state", "=", "available")]))

    def test_auditor_reads_and_writes_nothing(self):
        env = self.env(user=self.user_auditor)
        self.assertIn(self.discount_50, env["klodr.reward"].search([]))
        with self.assertRaises(AccessError):
            self.discount_50.with_env(env).write({"points_cost": 1})
        with self.assertRaises(AccessError):
            env["klodr.reward"].create({"name": "X", "program_id": self.program.id, "value": 1, "points_cost": 1})
        with self.assertRaises(AccessError):
            self.issue(self.discount_50, env=env)

    def test_manager_configures(self):
        env = self.env(user=self.user_manager)
        reward = env["klodr.reward"].create({"name": "Tote Bag", "program_id": self.program.id,
                                             "reward_type": "cashback", "value": 100, "points_cost": 400})
        reward.write({"stock": 5, "min_tier_id": self.silver.id})
        self.assertEqual(reward.company_id, self.company)
        today = date.today()
        reward.write({"date_from": today, "date_to": today + timedelta(days=7)})
