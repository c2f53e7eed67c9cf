from decimal import Decimal

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

D = Decimal


class KlodrGstCommon(AccountTestInvoicingCommon):
    """An Indian company (l10n_in chart, Gujarat) with customers in Gujarat (intra-state) and
    Maharashtra (inter-state), products at 5 %, 12 % and 18 % GST with HSN codes, a loyalty
    program whose points are worth ₹1 (1 point per ₹100), its liability accounts, and members."""

    @classmethod
    @AccountTestInvoicingCommon.setup_country("in")
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.write({"state_id": cls.env.ref("base.state_in_gj").id, "vat": "24AAGCC7144L6ZE",
                           "l10n_in_is_gst_registered": True})
        cls.env.user.write({"company_id": cls.company.id, "group_ids": [
            Command.link(cls.env.ref("loyalty_klodr.group_loyalty_manager").id),
            Command.link(cls.env.ref("account.group_account_manager").id)]})
        Chart = cls.env["account.chart.template"]
        cls.gst = {rate: Chart.ref(f"sgst_sale_{rate}") for rate in (5, 12, 18)}
        cls.igst = {rate: Chart.ref(f"igst_sale_{rate}") for rate in (5, 12, 18)}
        cls.partner_intra = cls.env["res.partner"].create({
            "name": "Rajkot Customer", "country_id": cls.env.ref("base.in").id,
            "state_id": cls.env.ref("base.state_in_gj").id, "city": "Rajkot"})
        cls.partner_inter = cls.env["res.partner"].create({
            "name": "Mumbai Customer", "country_id": cls.env.ref("base.in").id,
            "state_id": cls.env.ref("base.state_in_mh").id, "city": "Mumbai"})
        cls.products = {
            rate: cls.env["product.product"].create({
                "name": f"Item at {rate}%", "lst_price": 100.0, "l10n_in_hsn_code": hsn,
                "taxes_id": [Command.set(cls.gst[rate].ids)], "uom_id": cls.env.ref("uom.product_uom_unit").id,
            })
            for rate, hsn in ((5, "1001"), (12, "2002"), (18, "3003"))
        }
        Account = cls.env["account.account"]
        cls.acc_liability = Account.create({"name": "Loyalty Points Liability", "code": "LP2100",
                                            "account_type": "liability_current"})
        cls.acc_expense = Account.create({"name": "Loyalty Expense", "code": "LP6100", "account_type": "expense"})
        cls.acc_sales = cls.company_data["default_account_revenue"]
        cls.acc_loyalty_revenue = Account.create({"name": "Loyalty Revenue", "code": "LP4100",
                                                  "account_type": "income"})
        cls.acc_breakage = Account.create({"name": "Breakage Income", "code": "LP4200",
                                           "account_type": "income_other"})
        cls.journal = cls.company_data["default_journal_misc"]
        cls.program = cls.env["klodr.program"].create({
            "name": "GST Rewards", "company_id": cls.company.id, "point_value": 1.0, "min_redeem_balance": 100,
            "max_redeem_share": 50, "otp_required": False, "tz": "Asia/Kolkata", "expiry_policy": "months",
            "expiry_months": 12, "liability_redemption_rate": 80.0,
            "liability_account_id": cls.acc_liability.id, "liability_issue_account_id": cls.acc_expense.id,
            "liability_release_account_id": cls.acc_expense.id, "liability_breakage_account_id": cls.acc_breakage.id,
            "liability_journal_id": cls.journal.id,
        })
        cls.env["klodr.earn.rule"].create({"program_id": cls.program.id, "name": "1 point per ₹100",
                                           "kind": "amount", "points": 1, "spend_unit": 100})
        cls.member = cls.env["klodr.member"].create({
            "name": "Rajkot Customer", "program_id": cls.program.id, "mobile": "+91 98450 11111",
            "partner_id": cls.partner_intra.id})
        cls.member_inter = cls.env["klodr.member"].create({
            "name": "Mumbai Customer", "program_id": cls.program.id, "mobile": "+91 98450 22222",
            "partner_id": cls.partner_inter.id})
        cls.ledger = cls.env["klodr.ledger.entry"]

    def make_invoice(self, partner, amounts, move_type="out_invoice"):
        """A draft invoice with one line per ``{rate: price}``."""
        return self.env["account.move"].create({
            "move_type": move_type, "partner_id": partner.id, "invoice_date": "2026-01-15",
            "invoice_line_ids": [Command.create({"product_id": self.products[rate].id, "quantity": 1,
                                                 "price_unit": price}) for rate, price in amounts.items()],
        })

    def give_points(self, member, points):
        return self.ledger._post(member, "adjust", points, description="opening balance")

    def redeem(self, invoice, points):
        wizard = self.env["klodr.invoice.redeem"].create({"move_id": invoice.id, "points": points})
        wizard.action_redeem()
        return wizard

    def account_balance(self, account):
        lines = self.env["account.move.line"].search([("account_id", "=", account.id),
                                                      ("parent_state", "=", "posted")])
        return D(str(round(sum(lines.mapped("credit")) - sum(lines.mapped("debit")), 2)))
