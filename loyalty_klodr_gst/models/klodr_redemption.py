from odoo import fields, models


class KlodrRedemption(models.Model):
    _inherit = "klodr.redemption"

    invoice_id = fields.Many2one("account.move", readonly=True, index="btree_not_null",
                                 ondelete="set null", copy=False)
    invoice_mode = fields.Selection([("discount", "Discount lines before tax"), ("payment", "Credit (payment)")],
                                    readonly=True, copy=False)
    credit_move_id = fields.Many2one("account.move", string="Credit Entry", readonly=True, copy=False,
                                     help="The entry that pays the invoice with the points (redemption as payment).")
