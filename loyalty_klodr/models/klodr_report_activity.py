from odoo import api, fields, models, tools
from odoo.tools import SQL

from .klodr_ledger_entry import ENTRY_TYPES


class KlodrReportActivity(models.Model):
    """Loyalty sales against redemption: purchases, ledger entries and confirmed redemptions
    summed per day (in the program's timezone), store, tier and kind, to pivot by store, month,
    program or tier. Materialized: as of the last refresh (nightly, or the dashboard's button)."""

    _name = "klodr.report.activity"
    _inherit = ["klodr.report.mixin"]
    _description = "Loyalty Sales and Redemption Analysis"
    _auto = False
    _materialized = True
    _order = "date desc, id desc"
    _rec_name = "date"

    date = fields.Date(readonly=True, help="The day, in the program's timezone.")
    kind = fields.Selection([("purchase", "Purchase"), ("points", "Points"), ("redemption", "Redemption")],
                            string="Source", readonly=True)
    entry_type = fields.Selection(ENTRY_TYPES, readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    row_count = fields.Integer(string="Movements", readonly=True,
                               help="Purchases, ledger entries or redemptions summed in the row.")
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
        # Each source row is dated in its program's timezone, then summed per day and dimension.
        return SQL("""
            SELECT row_number() OVER (ORDER BY x.date, x.program_id, x.store_id, m.tier_id, x.kind, x.entry_type)
                       AS id,
                   x.date, x.program_id, x.company_id, x.store_id, m.tier_id, c.currency_id, x.kind, x.entry_type,
                   COUNT(*) AS row_count, SUM(x.sales_amount) AS sales_amount, SUM(x.order_count) AS order_count,
                   SUM(x.points_issued) AS points_issued, SUM(x.points_redeemed) AS points_redeemed,
                   SUM(x.points_expired) AS points_expired, SUM(x.points_corrected) AS points_corrected,
                   SUM(x.points_net) AS points_net, SUM(x.discount_amount) AS discount_amount,
                   NULL::float AS redemption_rate
              FROM (
                    SELECT (e.date AT TIME ZONE 'UTC' AT TIME ZONE p.tz)::date AS date, 'points'::varchar AS kind,
                           e.entry_type, e.program_id, e.company_id, e.store_id, e.member_id,
                           0::numeric AS sales_amount, 0 AS order_count,
                           CASE WHEN e.entry_type IN ('earn', 'bonus') THEN e.points ELSE 0 END AS points_issued,
                           CASE WHEN e.entry_type = 'redeem' THEN -e.points ELSE 0 END AS points_redeemed,
                           CASE WHEN e.entry_type = 'expire' THEN -e.points ELSE 0 END AS points_expired,
                           CASE WHEN e.entry_type IN ('refund', 'reversal', 'adjust') THEN e.points ELSE 0 END
                               AS points_corrected,
                           e.points AS points_net, 0::numeric AS discount_amount
                      FROM klodr_ledger_entry e
                      JOIN klodr_program p ON p.id = e.program_id
                    UNION ALL
                    SELECT (t.date AT TIME ZONE 'UTC' AT TIME ZONE p.tz)::date, 'purchase', NULL, t.program_id,
                           t.company_id, t.store_id, t.member_id, t.amount - COALESCE(t.refunded_amount, 0), 1,
                           0, 0, 0, 0, 0, 0
                      FROM klodr_transaction t
                      JOIN klodr_program p ON p.id = t.program_id
                    UNION ALL
                    SELECT (r.confirmed_at AT TIME ZONE 'UTC' AT TIME ZONE p.tz)::date, 'redemption', NULL,
                           r.program_id, r.company_id, r.store_id, r.member_id, 0, 0, 0, 0, 0, 0, 0,
                           COALESCE(r.discount_amount, 0)
                      FROM klodr_redemption r
                      JOIN klodr_program p ON p.id = r.program_id
                     WHERE r.state = 'confirmed'
                   ) x
              LEFT JOIN klodr_member m ON m.id = x.member_id
              LEFT JOIN res_company c ON c.id = x.company_id
             GROUP BY x.date, x.program_id, x.company_id, x.store_id, m.tier_id, c.currency_id, x.kind, x.entry_type
        """)

    @api.model
    def _materialized_indexes(self):
        return [("program_date", ["program_id", "date"])]

    @api.model
    def _create_indexes(self):
        cr = self.env.cr
        # The live figures of the dashboard and the refresh read these.
        tools.create_index(cr, "klodr_transaction_program_date_idx", "klodr_transaction", ["program_id", "date"])
        tools.create_index(cr, "klodr_redemption_program_confirmed_idx", "klodr_redemption",
                           ["program_id", "confirmed_at"], where="state = 'confirmed'")

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec == "redemption_rate:avg":
            return self._ratio_sql(query, "points_redeemed", "points_issued", 100)
        return super()._read_group_select(aggregate_spec, query)
