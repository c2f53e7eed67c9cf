from odoo import api, fields, models
from odoo.tools import SQL


class KlodrReportCategory(models.Model):
    """Members' buying pattern by product category: what they buy, how often, how recently and
    how big the basket is, per member or per segment (tier, store, program)."""

    _name = "klodr.report.category"
    _inherit = ["klodr.report.mixin"]
    _description = "Loyalty Buying Pattern Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "category"

    member_id = fields.Many2one("klodr.member", readonly=True)
    date = fields.Datetime(readonly=True)
    transaction_id = fields.Many2one("klodr.transaction", string="Purchases", readonly=True,
                                     aggregator="count_distinct")
    buyer_id = fields.Many2one("klodr.member", string="Members", readonly=True, aggregator="count_distinct")
    category_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    category = fields.Char(readonly=True, help="The product category, or the category the integration sent.")
    product_id = fields.Many2one("product.product", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    quantity = fields.Float(readonly=True)
    average_basket = fields.Monetary(readonly=True, currency_field="currency_id", aggregator="avg",
                                     help="Amount per purchase in the group.")
    recency_days = fields.Integer(string="Days Since Last Purchase", readonly=True, aggregator="min")

    @api.model
    def _view_query(self):
        return SQL("""
            SELECT l.id, t.date, t.program_id, t.company_id, t.store_id, t.member_id, t.member_id AS buyer_id,
                   m.tier_id, l.transaction_id, l.product_id, l.category_id,
                   COALESCE(pc.complete_name, l.category_ref) AS category, c.currency_id,
                   l.amount, l.quantity, l.amount AS average_basket,
                   ((NOW() AT TIME ZONE 'UTC')::date - t.date::date) AS recency_days
              FROM klodr_transaction_line l
              JOIN klodr_transaction t ON t.id = l.transaction_id
              LEFT JOIN klodr_member m ON m.id = t.member_id
              LEFT JOIN res_company c ON c.id = t.company_id
              LEFT JOIN product_category pc ON pc.id = l.category_id
        """)

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec == "average_basket:avg":
            return SQL("COALESCE(SUM(%s) / NULLIF(COUNT(DISTINCT %s), 0), 0)",
                       self._field_to_sql(self._table, "amount", query),
                       self._field_to_sql(self._table, "transaction_id", query))
        return super()._read_group_select(aggregate_spec, query)
