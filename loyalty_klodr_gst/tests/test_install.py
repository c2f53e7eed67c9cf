from num2words import num2words

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    def test_module_and_dependencies_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "loyalty_klodr_gst")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(set(module.dependencies_id.mapped("name")), {"loyalty_klodr", "account", "l10n_in"})
        self.assertEqual(set(module.dependencies_id.mapped("state")), {"installed"})

    def test_indian_invoicing_available(self):
        inr = self.env.ref("base.INR")
        self.assertEqual(inr.name, "INR")
        self.assertEqual(inr.rounding, 0.01)
        self.assertEqual(inr.currency_subunit_label, "Paise")
        # l10n_in's HSN summary is what redemption discount lines must feed.
        self.assertTrue(hasattr(self.env["account.move"], "_l10n_in_get_hsn_summary_table"))
        self.assertIn("l10n_in_hsn_code", self.env["account.move.line"]._fields)

    def test_amount_in_words_lakh_crore(self):
        words = num2words(12345678.90, lang="en_IN", to="currency", currency="INR")
        self.assertEqual(
            words,
            "one crore, twenty-three lakh, forty-five thousand, six hundred and seventy-eight rupees, ninety paise",
        )
