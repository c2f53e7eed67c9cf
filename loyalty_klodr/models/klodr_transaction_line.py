from odoo import api, fields, models
from odoo.tools import SQL, float_round

from .klodr_transaction import PRODUCT_CATEGORIES_KEY


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
        its references as text. Two statements whatever the number of lines (the products with
        their category paths; the lines): this runs on every synced POS order.
        """
        ids = sorted({int(line.product) for line in lines if line.product and str(line.product).isdigit()})
        known = self.env.cr.cache.get(PRODUCT_CATEGORIES_KEY, {})  # valued by _pure_line in this transaction
        products = {product_id: known[product_id] for product_id in ids if product_id in known}
        ids = [product_id for product_id in ids if product_id not in products]
        if ids:
            self.env["product.product"].flush_model(["product_tmpl_id"])
            self.env["product.template"].flush_model(["categ_id"])
            self.env.cr.execute(SQL(
                """SELECT p.id, t.categ_id, c.parent_path FROM product_product p
                     JOIN product_template t ON t.id = p.product_tmpl_id
                     LEFT JOIN product_category c ON c.id = t.categ_id
                    WHERE p.id = ANY(%s)""", ids))
            products.update((row[0], (row[1], row[2])) for row in self.env.cr.fetchall())
        columns = ("transaction_id", "company_id", "product_ref", "product_id", "category_ref", "category_id",
                   "quantity", "amount")
        # rounded as the ORM would round them: quantity to its precision, money to the currency
        digits = self._fields["quantity"].get_digits(self.env)
        currency = transaction.sudo().currency_id
        rows = []
        for line in lines:
            product_id = int(line.product) if line.product and str(line.product).isdigit() else None
            categ_id, parent_path = products.get(product_id, (None, None))
            path = frozenset(parent_path.strip("/").split("/")) if parent_path else None
            from_product = product_id in products and path == line.categories
            rows.append((transaction.id, transaction.company_id.id, line.product or None,
                         product_id if from_product else None,
                         None if from_product else (" / ".join(sorted(line.categories)) or None),
                         categ_id if from_product else None,
                         float_round(float(line.quantity), precision_digits=digits[1])
                         if digits else float(line.quantity),
                         currency.round(float(line.amount)) if currency else float(line.amount)))
        if not rows:
            return self.browse()
        # Written in SQL as the ledger's rows are (the caller checked access; company_id, a stored
        # related, is the purchase's).
        self.env.cr.execute(SQL(
            """INSERT INTO klodr_transaction_line (transaction_id, company_id, product_ref, product_id,
                                                  category_ref, category_id, quantity, amount)
               SELECT * FROM unnest(%s::int[], %s::int[], %s::varchar[], %s::int[], %s::varchar[], %s::int[],
                                    %s::numeric[], %s::numeric[])
               RETURNING id""",
            *([row[i] for row in rows] for i in range(len(columns)))))
        records = self.browse(sorted(row[0] for row in self.env.cr.fetchall()))
        transaction.invalidate_recordset(["line_ids"])
        return records


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
