from odoo import api, fields, models
from odoo.tools import SQL


class KlodrReportExpiry(models.Model):
    """Points left in members' lots by the day they expire (or are past due and wait for the
    expiry run), per program, store and tier. Materialized: as of the last refresh."""

    _name = "klodr.report.expiry"
    _inherit = ["klodr.report.mixin"]
    _description = "Loyalty Points Expiring Analysis"
    _auto = False
    _materialized = True
    _order = "expiry_date, id"
    _rec_name = "expiry_date"

    expiry_date = fields.Date(readonly=True)
    lot_count = fields.Integer(string="Lots", readonly=True)
    points = fields.Integer(string="Points Left", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    value = fields.Monetary(readonly=True, currency_field="currency_id",
                            help="Points left times the program's value of one point.")

    @api.model
    def _view_query(self):
        # Lots joined to their allocations and grouped per lot: a merge of both tables in id order.
        return SQL("""
            SELECT row_number() OVER (ORDER BY l.expiry_date, l.program_id, l.store_id, m.tier_id) AS id,
                   l.program_id, l.company_id, l.store_id, m.tier_id, c.currency_id, l.expiry_date,
                   COUNT(*) AS lot_count, SUM(l.points) AS points, SUM(l.points * p.point_value)::numeric AS value
              FROM (SELECT e.program_id, e.company_id, e.store_id, e.member_id, e.expiry_date,
                           e.points - COALESCE(SUM(al.points), 0) AS points
                      FROM klodr_ledger_entry e
                      LEFT JOIN klodr_ledger_allocation al ON al.lot_entry_id = e.id
                     WHERE e.points > 0 AND e.expiry_date IS NOT NULL
                     GROUP BY e.id
                    HAVING e.points > COALESCE(SUM(al.points), 0)) l
              LEFT JOIN klodr_member m ON m.id = l.member_id
              LEFT JOIN klodr_program p ON p.id = l.program_id
              LEFT JOIN res_company c ON c.id = l.company_id
             GROUP BY l.program_id, l.company_id, l.store_id, m.tier_id, c.currency_id, l.expiry_date
        """)

    @api.model
    def _materialized_indexes(self):
        return [("program_expiry", ["program_id", "expiry_date"])]
