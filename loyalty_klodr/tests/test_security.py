from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import KlodrCommon


@tagged("post_install", "-at_install")
class TestSecurity(KlodrCommon):
    def setUp(self):
        super().setUp()
        self.entry = self.post(self.member, "earn", 500, store=self.store_a)
        self.hold = self.env["klodr.ledger.hold"]._place(self.member, 100)

    def test_other_company_sees_and_changes_nothing(self):
        env = self.env(user=self.other_manager)
        for model, record in [("klodr.program", self.program), ("klodr.member", self.member),
                              ("klodr.ledger.entry", self.entry), ("klodr.store", self.store_a),
                              ("klodr.ledger.hold", self.hold),
                              ("klodr.ledger.allocation", None), ("klodr.ledger.lot", None)]:
            with self.subTest(model=model):
                self.assertFalse(env[model].search([("company_id", "=", self.company.id)]))
                if record:
                    self.assertFalse(env[model].search([("id", "=", record.id)]))
                    with self.assertRaises(AccessError):
                        record.with_env(env).read(["display_name"])
        with self.assertRaises(AccessError):
            self.member.with_env(env).write({"name": "Hijacked"})
        with self.assertRaises(AccessError):
            self.program.with_env(env).write({"point_value": 100})
        wizard = env["klodr.adjust.wizard"].create({"member_id": self.member.id, "points": 1000,
                                                     "reason": "cross-company"})
        with self.assertRaises(AccessError):
            wizard.action_confirm()
        self.assertEqual(self.member.balance, 500)
        self.assertEqual(self.member.name, "Priya Test")

    def test_cashier_cannot_adjust_or_write_the_ledger(self):
        env = self.env(user=self.user_cashier)
        member = self.member.with_env(env)
        self.assertEqual(member.balance, 500)  # a cashier sees balances
        with self.assertRaises(AccessError):
            env["klodr.adjust.wizard"].create({"member_id": self.member.id, "points": 100, "reason": "gift"})
        with self.assertRaises(AccessError):
            env["klodr.ledger.entry"].create({"program_id": self.program.id, "member_id": self.member.id,
                                              "entry_type": "earn", "points": 1000})
        with self.assertRaises(AccessError):
            env["klodr.ledger.entry"].with_context(klodr_ledger_post=True).create({
                "program_id": self.program.id, "member_id": self.member.id, "entry_type": "earn", "points": 1})
        with self.assertRaises(AccessError):
            self.program.with_env(env).write({"point_value": 10})
        self.assertEqual(self.member.balance, 500)

    def test_manager_adjusts_with_a_reason(self):
        env = self.env(user=self.user_manager)
        wizard = env["klodr.adjust.wizard"].create({"member_id": self.member.id, "points": -120,
                                                     "reason": "Duplicate bill INV-9 corrected"})
        wizard.action_confirm()
        wizard.action_confirm()  # a double click posts once
        adjust = self.member.entry_ids.filtered(lambda e: e.entry_type == "adjust")
        self.assertEqual(len(adjust), 1)
        self.assertEqual((adjust.points, adjust.description, adjust.user_id),
                         (-120, "Duplicate bill INV-9 corrected", self.user_manager))
        self.assertEqual(self.member.balance, 380)
        self.assertLedgerWhole()

    def test_auditor_reads_everything_and_writes_nothing(self):
        env = self.env(user=self.user_auditor)
        self.assertEqual(env["klodr.ledger.entry"].search([("member_id", "=", self.member.id)]), self.entry)
        self.assertTrue(env["klodr.ledger.entry"]._verify_ledger(program_ids=self.program.ids) == [])
        with self.assertRaises(AccessError):
            self.member.with_env(env).write({"name": "X"})
        with self.assertRaises(AccessError):
            env["klodr.member"].create({"name": "X", "program_id": self.program.id, "mobile": "9845000009"})
        with self.assertRaises(AccessError):
            env["klodr.adjust.wizard"].create({"member_id": self.member.id, "points": 1, "reason": "x"})
