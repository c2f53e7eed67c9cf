from odoo.tests import TransactionCase, new_test_user


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
