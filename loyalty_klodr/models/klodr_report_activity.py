from odoo import api, fields, models, tools
from odoo.tools import SQL

from .klodr_ledger_entry import ENTRY_TYPES


class KlodrReportActivity(models.Model):
    """Loyalty sales against redemption: one row per purchase, ledger entry and confirmed
    redemption, to sum by store, month, program or tier."""

    _name = "klodr.report.activity"
    _inherit = ["klodr.report.mixin"]
    _description = "Loyalty Sales and Redemption Analysis"
    _auto = False
    _order = "date desc"
    _rec_name = "date"

    date = fields.Datetime(readonly=True)
    kind = fields.Selection([("purchase", "Purchase"), ("points", "Points"), ("redemption", "Redemption")],
                            string="Source", readonly=True)
    entry_type = fields.Selection(ENTRY_TYPES, string="Entry Type", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    sales_amount = fields.Monetary(string="Member Sales", readonly=True, currency_field="currency_id",
                                   help="Purchases of members, less what was refunded.")
    order_count = fields.Integer(string="Purchases", readonly=True)
    points_issued = fields.Integer(readonly=True, help="Points earned and bonuses.")
    points_redeemed = fields.Integer(readonly=True, help="Points spent on rewards and discounts.")
    points_expired = fields.Integer(readonly=True)
    points_corrected = fields.Integer(string="Points Refunded or Adjusted", readonly=True,
                                      help="Refunds (negative), reversals and adjustments.")
    points_net = fields.Integer(string="Net Points", readonly=True,
                                help="Issued - redeemed - expired + corrected: the change of the balances.")
    discount_amount = fields.Monetary(string="Discount Value", readonly=True, currency_field="currency_id",
                                      help="Money taken off orders by confirmed redemptions.")
    redemption_rate = fields.Float(string="Redemption Rate (%)", readonly=True, aggregator="avg",
                                   help="Points redeemed per 100 points issued in the group.")

    @api.model
    def _view_query(self):
        return SQL("""
            SELECT x.id, x.kind, x.entry_type, x.date, x.program_id, x.company_id, x.store_id, x.member_id,
                   m.tier_id, c.currency_id, x.sales_amount, x.order_count, x.points_issued, x.points_redeemed,
                   x.points_expired, x.points_corrected, x.points_net, x.discount_amount,
                   NULL::float AS redemption_rate
              FROM (
                    SELECT e.id::bigint * 3 AS id, 'points'::varchar AS kind, e.entry_type, e.date, e.program_id,
                           e.company_id, e.store_id, e.member_id, 0::numeric AS sales_amount, 0 AS order_count,
                           CASE WHEN e.entry_type IN ('earn', 'bonus') THEN e.points ELSE 0 END AS points_issued,
                           CASE WHEN e.entry_type = 'redeem' THEN -e.points ELSE 0 END AS points_redeemed,
                           CASE WHEN e.entry_type = 'expire' THEN -e.points ELSE 0 END AS points_expired,
                           CASE WHEN e.entry_type IN ('refund', 'reversal', 'adjust') THEN e.points ELSE 0 END
                               AS points_corrected,
                           e.points AS points_net, 0::numeric AS discount_amount
                      FROM klodr_ledger_entry e
                    UNION ALL
                    SELECT t.id::bigint * 3 + 1, 'purchase', NULL, t.date, t.program_id, t.company_id, t.store_id,
                           t.member_id, t.amount - COALESCE(t.refunded_amount, 0), 1, 0, 0, 0, 0, 0, 0
                      FROM klodr_transaction t
                    UNION ALL
                    SELECT r.id::bigint * 3 + 2, 'redemption', NULL, r.confirmed_at, r.program_id, r.company_id,
                           r.store_id, r.member_id, 0, 0, 0, 0, 0, 0, 0, COALESCE(r.discount_amount, 0)
                      FROM klodr_redemption r
                     WHERE r.state = 'confirmed'
                   ) x
              LEFT JOIN klodr_member m ON m.id = x.member_id
              LEFT JOIN res_company c ON c.id = x.company_id
        """)

    @api.model
    def _create_indexes(self):
        cr = self.env.cr
        tools.create_index(cr, "klodr_transaction_program_date_idx", "klodr_transaction", ["program_id", "date"])
        tools.create_index(cr, "klodr_redemption_program_confirmed_idx", "klodr_redemption",
                           ["program_id", "confirmed_at"], where="state = 'confirmed'")

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec == "redemption_rate:avg":
            return self._ratio_sql(query, "points_redeemed", "points_issued", 100)
        return super()._read_group_select(aggregate_spec, query)
