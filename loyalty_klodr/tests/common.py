from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import TransactionCase, new_test_user


@contextmanager
def otp_outbox(registry):
    """An OTP channel for tests: each code sent lands in the yielded list as (redemption id, code)."""
    sent = []
    model = registry["klodr.redemption"]
    with patch.object(model, "_otp_channel_available", lambda self: True), \
            patch.object(model, "_deliver_otp", lambda self, code: sent.append((self.id, code))):
        yield sent


class KlodrCommon(TransactionCase):
    """A program with two stores and two members, users of each group, and a second company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.country_id = cls.env.ref("base.in")
        cls.program = cls.env["klodr.program"].create({
            "name": "Test Rewards",
            "company_id": cls.company.id,
            "point_value": 0.25,
            "min_redeem_balance": 100,
            "expiry_policy": "months",
            "expiry_months": 12,
        })
        cls.store_a = cls.env["klodr.store"].create({"name": "Store A", "code": "TST-A"})
        cls.store_b = cls.env["klodr.store"].create({"name": "Store B", "code": "TST-B"})
        cls.member = cls.env["klodr.member"].create({
            "name": "Priya Test", "program_id": cls.program.id, "mobile": "98450 00001",
        })
        cls.member_2 = cls.env["klodr.member"].create({
            "name": "Arjun Test", "program_id": cls.program.id, "mobile": "+91 98450 00002",
        })
        cls.ledger = cls.env["klodr.ledger.entry"]
        cls.user_cashier = new_test_user(
            cls.env, login="klodr_cashier", groups="base.group_user,loyalty_klodr.group_loyalty_user")
        cls.user_manager = new_test_user(
            cls.env, login="klodr_manager", groups="base.group_user,loyalty_klodr.group_loyalty_manager")
        cls.user_auditor = new_test_user(
            cls.env, login="klodr_auditor", groups="base.group_user,loyalty_klodr.group_loyalty_auditor")
        cls.other_company = cls.env["res.company"].create({"name": "Other Retail Co"})
        cls.other_manager = new_test_user(
            cls.env, login="klodr_other_manager", company_id=cls.other_company.id,
            company_ids=[(6, 0, cls.other_company.ids)],
            groups="base.group_user,loyalty_klodr.group_loyalty_manager")

    def post(self, member, entry_type, points, **kwargs):
        return self.ledger._post(member, entry_type, points, **kwargs)

    def assertLedgerWhole(self):
        breaks = self.ledger._verify_ledger(program_ids=self.program.ids)
        self.assertEqual([str(b) for b in breaks], [])


class KlodrRulesCommon(KlodrCommon):
    """KlodrCommon's program set up as the demo program of API.md (tiers, earn and event rules)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.tz = "Asia/Kolkata"
        Tier = cls.env["klodr.tier"]
        cls.bronze = Tier.create({"name": "Bronze", "code": "bronze", "program_id": cls.program.id,
                                  "threshold_points": 0, "multiplier": 1.0})
        cls.silver = Tier.create({"name": "Silver", "code": "silver", "program_id": cls.program.id,
                                  "threshold_points": 1000, "multiplier": 1.25})
        cls.gold = Tier.create({"name": "Gold", "code": "gold", "program_id": cls.program.id,
                                "threshold_points": 5000, "multiplier": 1.5})
        Rule = cls.env["klodr.earn.rule"]
        common = {"program_id": cls.program.id}
        event = dict(common, kind="event", tier_multiplied=False, entry_type="bonus")
        cls.rule_base = Rule.create(dict(common, name="1 point per 10", kind="amount", points=1, spend_unit=10))
        cls.rule_bands = Rule.create(dict(common, name="Big basket", kind="bands", points=0, tier_multiplied=False,
                                          entry_type="bonus", band_ids=[
                                              (0, 0, {"amount_from": 5000, "amount_to": 10000, "points": 100}),
                                              (0, 0, {"amount_from": 10000, "points": 250})]))
        cls.rule_welcome = Rule.create(dict(event, name="Welcome", event="signup", points=100, cap_lifetime=1))
        cls.rule_referee = Rule.create(dict(event, name="Referred", event="referral_referee", points=100))
        cls.rule_referrer = Rule.create(dict(event, name="Referral reward", event="referral_referrer", points=200))
        cls.rule_checkin = Rule.create(dict(event, name="Check-in", event="checkin", points=20, cap_day=1))
        cls.rule_review = Rule.create(dict(event, name="Review", event="review", points=50, cap_month=3))
        (cls.member | cls.member_2)._recompute_tier()

    def make_member(self, mobile, points=0, tier=None, when=None):
        member = self.env["klodr.member"].create({"name": f"M {mobile}", "program_id": self.program.id,
                                                  "mobile": mobile})
        if points:
            self.ledger._post(member, "earn", points, date=when, source_ref="opening")
        member._recompute_tier()
        if tier:
            self.assertEqual(member.tier_id, tier)
        return member
