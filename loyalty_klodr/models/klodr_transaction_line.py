from odoo import api, fields, models


class KlodrTransactionLine(models.Model):
    """A line of a purchase that earned points: what was bought, in which product category.

    Kept for the buying-pattern analysis (top categories, frequency, recency, basket); the
    points themselves come from the purchase's ledger entries.
    """

    _name = "klodr.transaction.line"
    _description = "Loyalty Purchase Line"
    _order = "transaction_id, id"
    _log_access = False

    transaction_id = fields.Many2one("klodr.transaction", required=True, readonly=True, index=True,
                                     ondelete="cascade")
    company_id = fields.Many2one(related="transaction_id.company_id", store=True)
    currency_id = fields.Many2one(related="transaction_id.currency_id")
    product_ref = fields.Char(string="Product Reference", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True, ondelete="set null")
    category_ref = fields.Char(string="Category Reference", readonly=True,
                               help="The category as the integration named it, when it is not a product category.")
    category_id = fields.Many2one("product.category", string="Product Category", readonly=True,
                                  ondelete="set null")
    quantity = fields.Float(readonly=True, digits="Product Unit")
    amount = fields.Monetary(readonly=True, currency_field="currency_id")

    @api.model
    def _record(self, transaction, lines):
        """Store the pure ``lines`` (``tools.rules.Line``) of ``transaction``.

        A line built from a product (``klodr.transaction._pure_line``: the product's id and the ids
        of its category path) is linked to the product and its own category; any other line keeps
        its references as text.
        """
        ids = {int(line.product) for line in lines if line.product and str(line.product).isdigit()}
        products = {p.id: p for p in self.env["product.product"].sudo().browse(ids).exists()} if ids else {}
        rows = []
        for line in lines:
            product = products.get(int(line.product)) if line.product and str(line.product).isdigit() else None
            path = frozenset(product.categ_id.parent_path.strip("/").split("/")) \
                if product and product.categ_id else None
            from_product = product is not None and path == line.categories
            rows.append({
                "transaction_id": transaction.id,
                "product_ref": line.product or False,
                "product_id": product.id if from_product else False,
                "category_id": product.categ_id.id if from_product else False,
                "category_ref": False if from_product else (" / ".join(sorted(line.categories)) or False),
                "quantity": float(line.quantity),
                "amount": float(line.amount),
            })
        return self.sudo().create(rows)


class KlodrMember(models.Model):
    _inherit = "klodr.member"

    def _earn_order(self, amount, *, order_ref, lines=(), **kwargs):
        transaction = super()._earn_order(amount, order_ref=order_ref, lines=lines, **kwargs)
        if lines:
            self.env["klodr.transaction.line"]._record(transaction, lines)
        return transaction


class KlodrTransaction(models.Model):
    _inherit = "klodr.transaction"

    line_ids = fields.One2many("klodr.transaction.line", "transaction_id", string="Lines", readonly=True)
