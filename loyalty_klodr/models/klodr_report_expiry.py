from odoo import api, fields, models
from odoo.tools import SQL


class KlodrReportExpiry(models.Model):
    """Points that will expire (or are past their date and wait for the expiry run): one row per
    lot with points left, to sum by expiry month, program, store or tier."""

    _name = "klodr.report.expiry"
    _inherit = ["klodr.report.mixin"]
    _description = "Loyalty Points Expiring Analysis"
    _auto = False
    _order = "expiry_date, id"
    _rec_name = "expiry_date"

    earned_date = fields.Datetime(readonly=True)
    expiry_date = fields.Date(readonly=True)
    points = fields.Integer(string="Points Left", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    value = fields.Monetary(readonly=True, currency_field="currency_id",
                            help="Points left times the program's value of one point.")

    @api.model
    def _view_query(self):
        # Lots joined to their allocations and grouped per lot, rather than a sub-select per lot:
        # the planner then probes the allocations of a few lots by index (a month, a member) or
        # merges both tables in id order for the whole ledger. Filters on the grouped columns
        # (program, expiry date, store, member) reach the lots' indexes.
        return SQL("""
            SELECT l.id, l.program_id, l.company_id, l.store_id, l.member_id, m.tier_id, l.earned_date,
                   l.expiry_date, l.points, c.currency_id, (l.points * p.point_value)::numeric AS value
              FROM (SELECT e.id, e.program_id, e.company_id, e.store_id, e.member_id, e.date AS earned_date,
                           e.expiry_date, e.points - COALESCE(SUM(al.points), 0) AS points
                      FROM klodr_ledger_entry e
                      LEFT JOIN klodr_ledger_allocation al ON al.lot_entry_id = e.id
                     WHERE e.points > 0 AND e.expiry_date IS NOT NULL
                     GROUP BY e.id, e.program_id, e.company_id, e.store_id, e.member_id, e.date, e.expiry_date,
                              e.points
                    HAVING e.points > COALESCE(SUM(al.points), 0)) l
              LEFT JOIN klodr_member m ON m.id = l.member_id
              LEFT JOIN klodr_program p ON p.id = l.program_id
              LEFT JOIN res_company c ON c.id = l.company_id
        """)
