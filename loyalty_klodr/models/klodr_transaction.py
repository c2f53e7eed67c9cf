from decimal import Decimal

from odoo import api, fields, models

from ..tools import rules as pure_rules


class KlodrTransaction(models.Model):
    """A purchase that earned points: one per order reference and program.

    The unique order reference is what makes a second earn for the same order
    impossible; refunds reverse its points in proportion to the refunded amount.
    """

    _name = "klodr.transaction"
    _description = "Loyalty Transaction"
    _order = "date desc, id desc"
    _rec_name = "order_ref"

    program_id = fields.Many2one("klodr.program", required=True, readonly=True, index=True, ondelete="restrict")
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    member_id = fields.Many2one("klodr.member", required=True, readonly=True, index=True, ondelete="restrict")
    order_ref = fields.Char(required=True, readonly=True)
    amount = fields.Monetary(required=True, readonly=True, currency_field="currency_id")
    date = fields.Datetime(required=True, readonly=True)
    store_id = fields.Many2one("klodr.store", readonly=True, ondelete="restrict")
    points_earned = fields.Integer(readonly=True)
    refunded_amount = fields.Monetary(readonly=True, currency_field="currency_id", default=0.0)
    points_reversed = fields.Integer(readonly=True, default=0)
    entry_ids = fields.One2many("klodr.ledger.entry", "source_id", domain=[("source_model", "=", "klodr.transaction")],
                                string="Ledger Entries", readonly=True)
    award_ids = fields.One2many("klodr.ledger.award", "transaction_id", string="Breakdown", readonly=True)

    _order_ref_unique = models.Constraint(
        "UNIQUE(program_id, order_ref)", "This order already earned points in the program.")
    _amount_positive = models.Constraint("CHECK(amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= amount)",
                                         "Amounts are positive and a refund never exceeds the purchase.")

    @api.model
    def _pure_line(self, product, quantity, amount):
        """An order line for the rule evaluator: the product and every category above it."""
        categories = frozenset(product.categ_id.parent_path.strip("/").split("/")) if product.categ_id else frozenset()
        return pure_rules.Line(amount=pure_rules.to_decimal(amount or 0), quantity=Decimal(str(quantity or 0)),
                               product=str(product.id), categories=categories)
