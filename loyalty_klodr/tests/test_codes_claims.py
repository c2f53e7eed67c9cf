import base64
import csv
import io
from datetime import timedelta

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError

from .common import KlodrCommon


@tagged("post_install", "-at_install")
class TestCodes(KlodrCommon):
    def setUp(self):
        super().setUp()
        self.batch = self.env["klodr.code.batch"].create({
            "name": "Scratch cards", "program_id": self.program.id, "kind": "points", "points": 50,
            "quantity": 5, "prefix": "scr",
        })
        self.batch.action_generate()
        self.code = self.batch.code_ids[0]

    def redeem(self, text, member=None, program=None, store=None):
        return self.env["klodr.code"]._redeem_code(program or self.program, member or self.member, text, store=store)

    def assertRefused(self, code, text, member=None, program=None):
        with self.assertRaises(LoyaltyError) as caught:
            self.redeem(text, member=member, program=program)
        self.assertEqual(caught.exception.code, code)

    def test_generate_unique_codes_and_fill_up_to_the_quantity(self):
        batch = self.env["klodr.code.batch"].with_user(self.user_manager).create({
            "name": "Big run", "program_id": self.program.id, "kind": "points", "points": 10, "quantity": 3000,
        })
        batch.action_generate()
        codes = batch.code_ids.mapped("code")
        self.assertEqual(len(codes), 3000)
        self.assertEqual(len(set(codes)), 3000)
        self.assertTrue(all(len(c) == 10 for c in codes))
        self.assertEqual((batch.code_count, batch.available_count, batch.used_count), (3000, 3000, 0))
        batch.action_generate()  # a second click adds nothing
        self.assertEqual(batch.code_count, 3000)
        batch.quantity = 3500
        batch.action_generate()
        self.assertEqual(batch.code_count, 3500)
        self.assertEqual(len(set(batch.code_ids.mapped("code"))), 3500)
        with self.assertRaises(UserError):
            batch.quantity = 10  # fewer than the codes that exist
        with self.assertRaises(UserError):
            batch.prefix = "NEW"  # printed codes cannot change

    def test_prefix_is_on_every_code(self):
        self.assertEqual(self.batch.prefix, "SCR")
        self.assertTrue(all(c.startswith("SCR") and len(c) == 13 for c in self.batch.code_ids.mapped("code")))

    def test_only_managers_generate_and_export(self):
        batch = self.batch.with_user(self.user_cashier)
        with self.assertRaises(UserError):
            batch.action_generate()
        with self.assertRaises(UserError):
            batch.action_export()

    def test_export_gives_a_csv_download(self):
        action = self.batch.with_user(self.user_manager).action_export()
        self.assertEqual(action["type"], "ir.actions.act_url")
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        attachment = self.env["ir.attachment"].browse(attachment_id)
        self.assertEqual((attachment.res_model, attachment.res_id), ("klodr.code.batch", self.batch.id))
        rows = list(csv.reader(io.StringIO(base64.b64decode(attachment.datas).decode("utf-8-sig"))))
        self.assertEqual(rows[0], ["code", "printed", "state", "valid_until", "batch"])
        self.assertEqual(sorted(r[0] for r in rows[1:]), sorted(self.batch.code_ids.mapped("code")))
        self.assertTrue(all(r[1].startswith("SCR-") for r in rows[1:]))
        # A second export replaces the first file.
        self.batch.action_export()
        self.assertFalse(attachment.exists())

    def test_redeem_gives_points_once(self):
        typed = f" {self.code.code[:3].lower()}-{self.code.code[3:8]} {self.code.code[8:].lower()} "
        redeemed = self.redeem(typed, store=self.store_a)
        self.assertEqual(redeemed, self.code)
        self.assertEqual((self.code.state, self.code.member_id), ("used", self.member))
        self.assertTrue(self.code.used_date)
        self.assertEqual(self.code.store_id, self.store_a)
        entry = self.code.entry_id
        self.assertEqual((entry.entry_type, entry.points, entry.source_ref), ("bonus", 50, self.code.code))
        self.assertEqual(entry.idempotency_key, f"code:{self.code.id}")
        self.assertEqual(self.member.balance, 50)
        self.assertRefused("code_used", self.code.code)
        self.assertRefused("code_used", self.code.code, member=self.member_2)
        self.assertEqual(self.member.balance, 50)
        self.assertEqual(self.member_2.balance, 0)
        self.assertEqual(self.ledger.search_count([("member_id", "=", self.member.id)]), 1)
        self.assertEqual((self.batch.used_count, self.batch.available_count), (1, 4))
        self.assertLedgerWhole()

    def test_unknown_and_blank_codes(self):
        self.assertRefused("code_invalid", "NOPE-NOPE")
        self.assertRefused("code_invalid", "  ")
        self.assertRefused("code_invalid", None)

    def test_code_of_another_program_is_unknown(self):
        other = self.env["klodr.program"].create({"name": "Other program", "company_id": self.company.id})
        batch = self.env["klodr.code.batch"].create({
            "name": "Other cards", "program_id": other.id, "kind": "points", "points": 10, "quantity": 1})
        batch.action_generate()
        self.assertRefused("code_invalid", batch.code_ids.code)
        self.assertEqual(batch.code_ids.state, "available")

    def test_expired_archived_and_voided_batches(self):
        self.batch.date_to = fields.Date.today() - timedelta(days=2)
        self.assertRefused("code_expired", self.code.code)
        self.assertEqual(self.code.state, "available")
        self.batch.date_to = fields.Date.today() + timedelta(days=2)
        self.batch.active = False
        self.assertRefused("code_expired", self.code.code)
        self.batch.active = True
        self.assertEqual(self.batch.action_void_available(), 5)
        self.assertRefused("code_expired", self.code.code)
        self.assertEqual(self.batch.expired_count, 5)
        self.assertEqual(self.member.balance, 0)

    def test_inactive_member_refused_and_code_kept(self):
        self.member.state = "blocked"
        self.assertRefused("member_inactive", self.code.code)
        self.assertEqual(self.code.state, "available")
        self.assertFalse(self.code.member_id)

    def test_reward_code_issues_the_reward_without_spending_points(self):
        reward = self.env["klodr.reward"].create({
            "name": "Free gift card", "program_id": self.program.id, "reward_type": "discount_fixed",
            "points_cost": 200, "value": 50})
        batch = self.env["klodr.code.batch"].create({
            "name": "Gift codes", "program_id": self.program.id, "kind": "reward", "reward_id": reward.id,
            "quantity": 2})
        batch.action_generate()
        code = batch.code_ids[0]
        self.redeem(code.code, member=self.member_2)
        issue = code.issue_id
        self.assertEqual((issue.reward_id, issue.member_id, issue.points), (reward, self.member_2, 0))
        self.assertEqual(issue.source_ref, code.code)
        self.assertEqual(self.member_2.balance, 0)
        self.assertRefused("code_used", code.code)

    def test_refused_reward_leaves_the_code_available(self):
        gold = self.env["klodr.tier"].create({"name": "Gold", "program_id": self.program.id,
                                              "threshold_points": 5000})
        reward = self.env["klodr.reward"].create({
            "name": "Lounge pass", "program_id": self.program.id, "reward_type": "discount_fixed",
            "points_cost": 500, "value": 100, "min_tier_id": gold.id})
        batch = self.env["klodr.code.batch"].create({
            "name": "Gold codes", "program_id": self.program.id, "kind": "reward", "reward_id": reward.id,
            "quantity": 1})
        batch.action_generate()
        self.assertRefused("tier_restricted", batch.code_ids.code)
        self.assertEqual(batch.code_ids.state, "available")
        self.assertFalse(self.env["klodr.reward.issue"].search([("reward_id", "=", reward.id)]))

    def test_cashier_sees_only_redeemed_codes(self):
        self.redeem(self.code.code)
        codes = self.env["klodr.code"].with_user(self.user_cashier).search([("batch_id", "=", self.batch.id)])
        self.assertEqual(codes, self.code)
        # ...but redeems any code at the counter.
        other = self.batch.code_ids[1]
        self.env["klodr.code"].with_user(self.user_cashier)._redeem_code(
            self.program.with_user(self.user_cashier), self.member_2.with_user(self.user_cashier), other.code)
        self.assertEqual(self.member_2.balance, 50)
        self.assertEqual(self.env["klodr.code"].with_user(self.user_manager).search_count(
            [("batch_id", "=", self.batch.id)]), 5)

    def test_redeemed_codes_are_kept(self):
        self.redeem(self.code.code)
        with self.assertRaises(UserError):
            self.code.unlink()
        with self.assertRaises(UserError):
            self.batch.unlink()
        with self.assertRaises(UserError):
            self.code.with_user(self.user_manager).write({"state": "available"})
        with self.assertRaises(UserError):
            self.batch.points = 500  # what redeemed codes gave is history

    def test_other_company_sees_no_batch(self):
        env = self.env(user=self.other_manager)
        self.assertFalse(env["klodr.code.batch"].search([("id", "=", self.batch.id)]))
        self.assertFalse(env["klodr.code"].search([("batch_id", "=", self.batch.id)]))


@tagged("post_install", "-at_install")
class TestClaims(KlodrCommon):
    def setUp(self):
        super().setUp()
        self.rule = self.env["klodr.earn.rule"].create({
            "name": "Pharmacy receipt", "program_id": self.program.id, "kind": "fixed", "points": 100,
            "min_amount": 20, "tier_multiplied": False, "entry_type": "bonus",
        })

    def claim(self, amount=150, ref="PH-001", member=None, rule=None, **vals):
        return self.env["klodr.claim"].create(dict({
            "member_id": (member or self.member).id, "rule_id": (rule or self.rule).id,
            "amount": amount, "receipt_ref": ref}, **vals))

    def test_approve_gives_the_rule_points_once(self):
        claim = self.claim().with_user(self.user_cashier)
        claim.action_approve()
        self.assertEqual((claim.state, claim.points), ("approved", 100))
        self.assertEqual(claim.reviewed_by_id, self.user_cashier)
        self.assertEqual(self.member.balance, 100)
        entries = self.ledger.search([("member_id", "=", self.member.id)])
        self.assertEqual((entries.entry_type, entries.points, entries.source_ref), ("bonus", 100, "PH-001"))
        self.assertEqual(entries.idempotency_key, f"claim:{claim.id}:bonus")
        self.assertEqual(claim.entry_ids, entries)
        self.assertEqual(entries.award_ids.rule_id, self.rule)
        # A second approval (double click, a colleague at the same time) writes nothing more.
        claim.action_approve()
        self.assertEqual(claim._approve(), entries)
        self.assertEqual(self.member.balance, 100)
        self.assertEqual(self.ledger.search_count([("member_id", "=", self.member.id)]), 1)
        self.assertLedgerWhole()

    def test_amount_rule_uses_the_member_tier(self):
        silver = self.env["klodr.tier"].create({"name": "Silver", "program_id": self.program.id,
                                                "threshold_points": 0, "multiplier": 1.5})
        self.member.sudo().tier_id = silver
        rule = self.env["klodr.earn.rule"].create({
            "name": "Partner invoices", "program_id": self.program.id, "kind": "amount", "points": 1,
            "spend_unit": 10})
        claim = self.claim(amount=255, rule=rule)
        claim.action_approve()
        self.assertEqual(claim.points, 37)  # 25 x 1.5, rounded down
        self.assertEqual(self.member.balance, 37)

    def test_below_minimum_is_refused_with_the_reason(self):
        claim = self.claim(amount=15)
        with self.assertRaisesRegex(UserError, "below the minimum"):
            claim.action_approve()
        self.assertEqual(claim.state, "submitted")
        self.assertEqual(self.member.balance, 0)

    def test_rule_conditions_apply_to_the_receipt_day(self):
        self.rule.date_to = fields.Date.today() - timedelta(days=10)
        claim = self.claim(receipt_date=fields.Date.today() - timedelta(days=11))
        claim.action_approve()
        self.assertEqual(claim.points, 100)
        late = self.claim(ref="PH-002", receipt_date=fields.Date.today() - timedelta(days=5))
        with self.assertRaisesRegex(UserError, "outside the period"):
            late.action_approve()

    def test_cap_is_respected(self):
        self.rule.cap_day = 1
        self.claim().action_approve()
        second = self.claim(ref="PH-002")
        with self.assertRaisesRegex(UserError, "already received"):
            second.action_approve()
        self.assertEqual(self.member.balance, 100)

    def test_reject_needs_a_reason_and_decides_once(self):
        claim = self.claim().with_user(self.user_cashier)
        with self.assertRaises(UserError):
            claim.action_reject()
        with self.assertRaises(UserError):
            claim._reject("   ")
        claim.reject_reason = "Receipt is unreadable"
        claim.action_reject()
        self.assertEqual(claim.state, "rejected")
        self.assertEqual(claim.reviewed_by_id, self.user_cashier)
        with self.assertRaises(UserError):
            claim.action_approve()
        with self.assertRaises(UserError):
            claim.amount = 500
        self.assertEqual(self.member.balance, 0)
        approved = self.claim(ref="PH-009")
        approved.action_approve()
        with self.assertRaises(UserError):
            approved._reject("changed my mind")
        with self.assertRaises(UserError):
            approved.write({"amount": 1000})
        with self.assertRaises(UserError):
            approved.unlink()

    def test_duplicate_receipt_refused(self):
        self.claim(ref="ph-001 ")
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.UniqueViolation), \
                self.env.cr.savepoint():
            self.claim(ref=" PH-001")
            self.env.flush_all()
        # Another member, or another rule, may claim the same receipt number.
        self.claim(ref="PH-001", member=self.member_2)

    def test_rejected_receipt_can_be_claimed_again(self):
        first = self.claim()
        first._reject("Photo is blurred")
        second = self.claim()
        second.action_approve()
        self.assertEqual(self.member.balance, 100)

    def test_state_and_points_only_through_the_buttons(self):
        with self.assertRaises(UserError):
            self.claim(state="approved")
        claim = self.claim()
        with self.assertRaises(UserError):
            claim.write({"state": "approved", "points": 1000})

    def test_inactive_member_cannot_claim(self):
        claim = self.claim()
        self.member.state = "blocked"
        with self.assertRaises(LoyaltyError) as caught:
            claim.action_approve()
        self.assertEqual(caught.exception.code, "member_inactive")
        with self.assertRaises(LoyaltyError):
            self.claim(ref="PH-003")

    def test_rule_of_another_program_or_kind_refused(self):
        other = self.env["klodr.program"].create({"name": "Other", "company_id": self.company.id})
        foreign = self.env["klodr.earn.rule"].create({"name": "Foreign", "program_id": other.id,
                                                      "kind": "fixed", "points": 5})
        with self.assertRaises(UserError):
            self.claim(rule=foreign)
        event = self.env["klodr.earn.rule"].create({"name": "Review", "program_id": self.program.id,
                                                    "kind": "event", "event": "review", "points": 5})
        with self.assertRaises(UserError):
            self.claim(rule=event)

    def test_auditor_reads_but_cannot_approve(self):
        claim = self.claim()
        self.assertEqual(claim.with_user(self.user_auditor).amount, 150)
        with self.assertRaises(AccessError):
            claim.with_user(self.user_auditor).action_approve()
        self.assertEqual(claim.state, "submitted")


@tagged("post_install", "-at_install")
class TestSetupWizard(KlodrCommon):
    def create_program(self, template, **vals):
        wizard = self.env["klodr.setup.wizard"].with_user(self.user_manager).create(
            dict({"template": template}, **vals))
        action = wizard.action_create()
        self.assertEqual((action["res_model"], action["view_mode"]), ("klodr.program", "form"))
        return self.env["klodr.program"].browse(action["res_id"])

    def member_of(self, program, mobile="+91 98450 11111"):
        return self.env["klodr.member"].create({"name": "Setup Member", "program_id": program.id, "mobile": mobile})

    def test_retail_template(self):
        program = self.create_program("retail", name="Showroom Rewards")
        self.assertEqual(program.name, "Showroom Rewards")
        self.assertEqual(program.tier_ids.mapped("code"), ["bronze", "silver", "gold"])
        self.assertEqual(len(program.rule_ids), 7)
        self.assertTrue(program.otp_required)
        member = self.member_of(program)
        member.sudo().tier_id = program.tier_ids.filtered(lambda t: t.code == "silver")
        transaction = member._earn_order(5000, order_ref="SETUP-1")
        self.assertEqual(transaction.points_earned, 725)  # 500 x 1.25 + 100 band bonus
        self.assertEqual(member.balance, 725)
        rewards = self.env["klodr.reward"].search([("program_id", "=", program.id)])
        self.assertEqual(len(rewards), 2)
        self.assertEqual(rewards.filtered("min_tier_id").min_tier_id.code, "gold")
        self.assertEqual(rewards.filtered(lambda r: r.reward_type == "discount_fixed").value, 50)
        new = self.env["klodr.member"]._enroll(program, {"name": "New", "mobile": "+91 98450 11112"},
                                               referral_code=member.referral_code)
        self.assertEqual(new.balance, 200)  # welcome + referred by a friend
        self.assertEqual(new._earn_event("checkin", ref="day-1").points, 20)
        with self.assertRaises(LoyaltyError):
            new._earn_event("checkin", ref="day-1-again")

    def test_cafe_template(self):
        program = self.create_program("cafe", stamp_min_amount=120)
        self.assertEqual((program.program_type, program.stamps_per_card), ("stamps", 10))
        self.assertEqual(program.rule_ids.kind, "fixed")
        if "stamp_reward_id" in program._fields:
            self.assertEqual((program.stamp_reward_id.points_cost, program.stamp_reward_id.value), (10, 100))
        member = self.member_of(program)
        self.assertEqual(member._earn_order(80, order_ref="CAFE-1").points_earned, 0)
        self.assertEqual(member._earn_order(150, order_ref="CAFE-2").points_earned, 1)
        self.assertEqual(member.balance, 1)

    def test_b2b_template(self):
        program = self.create_program("b2b", point_value=2)
        self.assertFalse(program.otp_required)
        self.assertEqual((program.expiry_months, program.point_value), (24, 2))
        member = self.member_of(program)
        self.assertEqual(member._earn_order(600000, order_ref="B2B-1").points_earned, 6000)
        self.assertEqual(member.tier_id.code, "preferred")  # by spend, not points
        self.assertEqual(member._earn_order(10099, order_ref="B2B-2").points_earned, 125)  # 100 x 1.25

    def test_only_managers_run_the_assistant(self):
        wizard = self.env["klodr.setup.wizard"].create({"template": "retail"})
        with self.assertRaises(AccessError):
            wizard.with_user(self.user_cashier).action_create()
