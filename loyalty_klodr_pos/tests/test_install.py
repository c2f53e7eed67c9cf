from odoo.fields import Command
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_module_and_dependencies_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "loyalty_klodr_pos")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(
            set(module.dependencies_id.mapped("name")), {"loyalty_klodr", "loyalty_klodr_sms", "point_of_sale"}
        )
        self.assertEqual(set(module.dependencies_id.mapped("state")), {"installed"})

    def test_pos_config_in_company(self):
        config = self.env["pos.config"].create({"name": "Showroom Koramangala"})
        self.assertEqual(config.company_id, self.env.company)
        self.assertIn(config, self.env["pos.config"].search([("company_id", "=", self.env.company.id)]))

    def test_cashier_gets_loyalty_groups(self):
        loyalty_user = self.env.ref("loyalty_klodr.group_loyalty_user")
        loyalty_manager = self.env.ref("loyalty_klodr.group_loyalty_manager")
        self.assertTrue(self.env.ref("loyalty_klodr.group_loyalty_auditor"))
        self.assertIn(loyalty_user, loyalty_manager.implied_ids)
        cashier = self.env["res.users"].create(
            {
                "name": "Counter Cashier",
                "login": "klodr_pos_cashier",
                "group_ids": [Command.set([self.env.ref("point_of_sale.group_pos_user").id, loyalty_user.id])],
            }
        )
        self.assertTrue(cashier.has_group("point_of_sale.group_pos_user"))
        self.assertTrue(cashier.has_group("loyalty_klodr.group_loyalty_user"))
        self.assertFalse(cashier.has_group("loyalty_klodr.group_loyalty_manager"))
