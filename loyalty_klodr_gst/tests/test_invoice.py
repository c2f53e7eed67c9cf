from collections import defaultdict

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.loyalty_klodr.tests.common import otp_outbox

from .common import D, KlodrGstCommon

AMOUNTS = {5: 1000.0, 12: 2000.0, 18: 3000.0}


@tagged("post_install", "-at_install")
class TestInvoiceRedemption(KlodrGstCommon):

    def tax_by_type_and_rate(self, invoice):
        """{(gst type, rate of the GST set): tax amount} from the invoice's tax lines."""
        taxes = defaultdict(D)
        for line in invoice.line_ids.filtered("tax_line_id"):
            tax = line.tax_line_id
            rate = {2.5: 5, 6: 12, 9: 18}.get(tax.amount, tax.amount) if tax.l10n_in_gst_tax_type != "igst" \
                else tax.amount
            taxes[(tax.l10n_in_gst_tax_type, int(rate))] += D(str(line.balance)) * -1
        return {k: v.quantize(D("0.01")) for k, v in taxes.items()}

    def discount_lines(self, invoice):
        return invoice.invoice_line_ids.filtered("klodr_redemption_id").sorted(lambda ln: -ln.price_subtotal)

    def check_redeemed_invoice(self, partner, member, expected_taxes, expected_total):
        self.give_points(member, 5000)
        invoice = self.make_invoice(partner, AMOUNTS)
        self.redeem(invoice, 1000)  # ₹1,000 off before tax
        lines = self.discount_lines(invoice)
        # one line per tax set, in proportion (1:2:3), exact to the paisa by largest remainder
        self.assertEqual([(line.l10n_in_hsn_code, D(str(line.price_subtotal))) for line in lines],
                         [("1001", D("-166.67")), ("2002", D("-333.33")), ("3003", D("-500.00"))])
        for line in lines:
            product_line = invoice.invoice_line_ids.filtered(
                lambda ln, line=line: ln.product_id and ln.l10n_in_hsn_code == line.l10n_in_hsn_code)
            self.assertEqual(line.tax_ids, product_line.tax_ids)
        self.assertEqual(D(str(invoice.amount_untaxed)), D("5000.00"))
        self.assertEqual(self.tax_by_type_and_rate(invoice), expected_taxes)
        self.assertEqual(D(str(invoice.amount_tax)), sum(expected_taxes.values()))
        self.assertEqual(D(str(invoice.amount_total)), expected_total)
        hsn = invoice._l10n_in_get_hsn_summary_table()
        items = {item["l10n_in_hsn_code"]: item for item in hsn["items"]}
        self.assertEqual({code: round(item["amount_untaxed"], 2) for code, item in items.items()},
                         {"1001": 833.33, "2002": 1666.67, "3003": 2500.0})
        self.assertEqual({code: item["quantity"] for code, item in items.items()},
                         {"1001": 1.0, "2002": 1.0, "3003": 1.0})
        redemption = invoice.klodr_redemption_ids
        self.assertEqual((redemption.state, redemption.points, redemption.invoice_mode),
                         ("confirmed", 1000, "discount"))
        self.assertEqual(member.balance, 4000)
        return invoice, items

    def test_intra_state_cgst_sgst(self):
        invoice, items = self.check_redeemed_invoice(self.partner_intra, self.member, {
            ("cgst", 5): D("20.83"), ("sgst", 5): D("20.83"),
            ("cgst", 12): D("100.00"), ("sgst", 12): D("100.00"),
            ("cgst", 18): D("225.00"), ("sgst", 18): D("225.00"),
        }, D("5691.66"))
        self.assertFalse(invoice.fiscal_position_id.name and "Inter" in invoice.fiscal_position_id.name)
        self.assertEqual(round(items["1001"]["tax_amount_cgst"], 2), 20.83)
        self.assertEqual(round(items["3003"]["tax_amount_sgst"], 2), 225.0)

    def test_inter_state_igst(self):
        invoice, items = self.check_redeemed_invoice(self.partner_inter, self.member_inter, {
            ("igst", 5): D("41.67"), ("igst", 12): D("200.00"), ("igst", 18): D("450.00"),
        }, D("5691.67"))
        self.assertEqual(invoice.l10n_in_state_id, self.env.ref("base.state_in_mh"))
        self.assertEqual(round(items["2002"]["tax_amount_igst"], 2), 200.0)

    def test_posting_earns_on_taxable_value_after_discount_and_credit_note_reverses(self):
        invoice, _items = self.check_redeemed_invoice(self.partner_intra, self.member, {
            ("cgst", 5): D("20.83"), ("sgst", 5): D("20.83"), ("cgst", 12): D("100.00"),
            ("sgst", 12): D("100.00"), ("cgst", 18): D("225.00"), ("sgst", 18): D("225.00")}, D("5691.66"))
        invoice.action_post()
        transaction = invoice.klodr_transaction_id
        self.assertEqual((transaction.amount, transaction.points_earned), (5000.0, 50))
        self.assertEqual(self.member.balance, 4050)
        # posting again (reset and post) earns nothing twice
        invoice.button_draft()
        invoice.action_post()
        self.assertEqual(invoice.klodr_transaction_id, transaction)
        self.assertEqual(self.member.balance, 4050)
        # a credit note for a fifth of the invoice: a fifth of the points earned and of those redeemed
        credit_note = self.env["account.move"].create({
            "move_type": "out_refund", "partner_id": self.partner_intra.id, "invoice_date": "2026-01-20",
            "reversed_entry_id": invoice.id,
            "invoice_line_ids": [Command.create({"product_id": self.products[18].id, "price_unit": 1000.0})],
        })
        credit_note.action_post()
        self.assertEqual((transaction.refunded_amount, transaction.points_reversed), (1000.0, 10))
        self.assertEqual(self.member.balance, 4050 - 10 + 200)
        # cancelling reverses what is left
        invoice.button_cancel()
        self.assertEqual((transaction.refunded_amount, transaction.points_reversed), (5000.0, 50))
        self.assertEqual(self.member.balance, 5000)
        self.assertEqual(self.ledger._verify_ledger(program_ids=self.program.ids), [])

    def test_earn_basis_after_tax(self):
        self.company.klodr_earn_basis = "total"
        invoice = self.make_invoice(self.partner_intra, {18: 10000.0})
        invoice.action_post()
        self.assertEqual(invoice.klodr_transaction_id.amount, 11800.0)
        self.assertEqual(invoice.klodr_points_earned, 118)

    def test_cancel_draft_gives_points_back(self):
        self.give_points(self.member, 500)
        invoice = self.make_invoice(self.partner_intra, {5: 1000.0})
        self.redeem(invoice, 200)
        self.assertEqual(self.member.balance, 300)
        invoice.button_cancel()
        self.assertEqual(invoice.klodr_redemption_ids.state, "reversed")
        self.assertEqual(self.member.balance, 500)

    def test_refusals(self):
        invoice = self.make_invoice(self.partner_intra, {5: 1000.0})
        self.give_points(self.member, 5000)
        with self.assertRaises(UserError):  # more than 50 % of the invoice
            self.redeem(invoice, 600)
        non_member = self.make_invoice(self.env["res.partner"].create({"name": "Walk-in"}), {5: 100.0})
        self.assertFalse(non_member.klodr_can_redeem)
        with self.assertRaises(UserError):
            non_member.action_klodr_redeem()

    def test_otp_required(self):
        self.program.otp_required = True
        self.give_points(self.member, 1000)
        invoice = self.make_invoice(self.partner_intra, {12: 1000.0})
        with otp_outbox(self.registry) as sent:
            wizard = self.redeem(invoice, 300)
            self.assertEqual(wizard.state, "otp")
            self.assertFalse(self.discount_lines(invoice))
            wizard.otp = "000000" if sent[-1][1] != "000000" else "111111"
            wizard.action_confirm()
            self.assertIn("attempt", wizard.message)
            self.assertEqual(wizard.redemption_id.otp_attempts, 1)
            wizard.otp = sent[-1][1]
            wizard.action_confirm()
        self.assertEqual(wizard.redemption_id.state, "confirmed")
        self.assertEqual(D(str(self.discount_lines(invoice).price_subtotal)), D("-300.00"))
        self.assertEqual(self.member.balance, 700)

    def test_redemption_as_payment(self):
        receivable_loyalty = self.env["account.account"].create(
            {"name": "Loyalty Redemptions", "code": "LP6200", "account_type": "expense"})
        self.company.write({"klodr_redemption_as_payment": True,
                            "klodr_redemption_account_id": receivable_loyalty.id})
        self.give_points(self.member, 1000)
        invoice = self.make_invoice(self.partner_intra, {18: 1000.0})
        self.redeem(invoice, 500)
        self.assertFalse(self.discount_lines(invoice))
        self.assertEqual(invoice.amount_total, 1180.0)
        invoice.action_post()
        redemption = invoice.klodr_redemption_ids
        self.assertEqual(redemption.credit_move_id.state, "posted")
        self.assertEqual(invoice.amount_residual, 680.0)
        self.assertEqual(invoice.payment_state, "partial")
        # earns on the taxable value less the share of the credit (500 × 1000/1180 = 423.73)
        self.assertEqual(invoice.klodr_transaction_id.amount, 576.27)
        self.assertEqual(invoice.klodr_points_earned, 5)


@tagged("post_install", "-at_install")
class TestInvoiceReport(KlodrGstCommon):

    def test_amount_in_words_indian_numbering_any_language(self):
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.partner_intra.id, "invoice_date": "2026-01-15",
            "invoice_line_ids": [Command.create({"name": "Big order", "price_unit": 12345678.90, "tax_ids": []})],
        })
        expected = ("Rupees One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred and Seventy-Eight"
                    " and Ninety Paise Only")
        self.assertEqual(invoice.amount_total, 12345678.90)
        self.assertEqual(invoice.amount_total_words, expected)
        self.env["res.lang"]._activate_lang("fr_FR")
        invoice.invalidate_recordset(["amount_total_words"])
        self.assertEqual(invoice.with_context(lang="fr_FR").amount_total_words, expected)

    def test_invoice_html_loyalty_block_words_and_hsn_summary(self):
        self.give_points(self.member, 2000)
        invoice = self.make_invoice(self.partner_intra, AMOUNTS)
        self.redeem(invoice, 1000)
        invoice.action_post()
        html = self.env["ir.actions.report"]._render_qweb_html("account.account_invoices", invoice.ids)[0]
        html = html.decode() if isinstance(html, bytes) else html
        self.assertIn('name="klodr_loyalty_block"', html)
        self.assertIn("Points earned on this invoice", html)
        block = html[html.index('name="klodr_loyalty_block"'):]
        self.assertIn(">50 pts<", block.replace("\n", "").replace("  ", "").replace("</t>", ""))
        self.assertIn("Rupees Five Thousand Six Hundred and Ninety-One and Sixty-Six Paise Only", html)
        self.assertIn("833.33", html)  # HSN summary after the discount
        self.assertIn("1,666.67", html)
        self.assertEqual(invoice.klodr_points_redeemed, 1000)
        self.assertEqual(invoice.klodr_points_balance, 1050)
