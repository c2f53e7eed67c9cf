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
        # The lot's allocations are summed per lot (an index probe each): a filter on the expiry
        # month or the program reaches the lots through their index first.
        return SQL("""
            SELECT e.id, e.program_id, e.company_id, e.store_id, e.member_id, m.tier_id, e.date AS earned_date,
                   e.expiry_date, e.points - a.used AS points, c.currency_id,
                   ((e.points - a.used) * p.point_value)::numeric AS value
              FROM klodr_ledger_entry e
              JOIN LATERAL (SELECT COALESCE(SUM(al.points), 0) AS used FROM klodr_ledger_allocation al
                             WHERE al.lot_entry_id = e.id) a ON TRUE
              JOIN klodr_member m ON m.id = e.member_id
              JOIN klodr_program p ON p.id = e.program_id
              JOIN res_company c ON c.id = e.company_id
             WHERE e.points > 0 AND e.expiry_date IS NOT NULL AND e.points > a.used
        """)
