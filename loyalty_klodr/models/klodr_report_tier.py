from odoo import api, fields, models
from odoo.tools import SQL


class KlodrReportTierMovement(models.Model):
    """Tier changes of members (``klodr.tier.history``): entries, upgrades and downgrades by
    month, program, tier or the store the member enrolled at."""

    _name = "klodr.report.tier.movement"
    _inherit = ["klodr.report.mixin"]
    _description = "Loyalty Tier Movements Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "date"

    member_id = fields.Many2one("klodr.member", readonly=True)
    date = fields.Datetime(readonly=True)
    from_tier_id = fields.Many2one("klodr.tier", string="From", readonly=True)
    to_tier_id = fields.Many2one("klodr.tier", string="To", readonly=True)
    direction = fields.Selection([("entry", "First Tier"), ("up", "Upgrade"), ("down", "Downgrade")],
                                 readonly=True)
    window_points = fields.Integer(string="Points in Window", readonly=True, aggregator="avg")

    @api.model
    def _view_query(self):
        # Tiers rank as the rewards rank them: points, then amount, then sequence, then id.
        return SQL("""
            SELECT h.id, h.date, h.member_id, m.program_id, m.company_id, m.store_id, m.tier_id,
                   h.from_tier_id, h.to_tier_id, h.window_points,
                   CASE WHEN h.from_tier_id IS NULL OR ft.id IS NULL THEN 'entry'
                        WHEN (tt.threshold_points, COALESCE(tt.threshold_amount, 0), tt.sequence, tt.id)
                             > (ft.threshold_points, COALESCE(ft.threshold_amount, 0), ft.sequence, ft.id)
                        THEN 'up' ELSE 'down' END AS direction
              FROM klodr_tier_history h
              JOIN klodr_member m ON m.id = h.member_id
              LEFT JOIN klodr_tier ft ON ft.id = h.from_tier_id
              LEFT JOIN klodr_tier tt ON tt.id = h.to_tier_id
        """)
