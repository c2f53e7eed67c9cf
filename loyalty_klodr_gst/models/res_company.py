from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    klodr_redemption_as_payment = fields.Boolean(
        string="Loyalty Redemption as Payment",
        help="Points redeemed on an invoice are a credit applied to it (like a payment) instead of "
             "discount lines before tax.")
    klodr_redemption_account_id = fields.Many2one(
        "account.account", string="Loyalty Redemption Account", check_company=True,
        help="Debited by the credit that pays an invoice with points (redemption as payment).")
    klodr_earn_basis = fields.Selection(
        [("untaxed", "Taxable value (before tax)"), ("total", "Total (after tax)")],
        string="Loyalty Points Earned On", default="untaxed", required=True,
        help="Invoices earn points on this amount, after the loyalty discount.")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    klodr_redemption_as_payment = fields.Boolean(related="company_id.klodr_redemption_as_payment", readonly=False)
    klodr_redemption_account_id = fields.Many2one(related="company_id.klodr_redemption_account_id",
                                                  readonly=False)
    klodr_earn_basis = fields.Selection(related="company_id.klodr_earn_basis", readonly=False)
