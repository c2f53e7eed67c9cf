from decimal import Decimal

from odoo import fields, models

from ..tools.tiers import TierLevel


class KlodrTier(models.Model):
    """A level of the program, reached by points earned in the rolling window."""

    _name = "klodr.tier"
    _description = "Loyalty Tier"
    # read on every earn from the program's cached ``_tier_table``: a change clears it
    _inherit = ["klodr.cached.config"]
    _order = "program_id, threshold_points, sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(help="Short code integrations receive (bronze, silver, gold).")
    program_id = fields.Many2one("klodr.program", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    color = fields.Char(default="#cd7f32", help="Shown on the member's form and at the counter.")
    image = fields.Image(max_width=256, max_height=256)
    threshold_points = fields.Integer(
        string="Points Required", help="Points earned (earn + bonus - refunds) in the tier window.")
    threshold_amount = fields.Monetary(
        string="Spend Required", currency_field="currency_id",
        help="Optional: amount spent in the tier window, in addition to the points.")
    currency_id = fields.Many2one(related="program_id.currency_id")
    multiplier = fields.Float(string="Earn Multiplier", default=1.0, digits=(6, 2))
    active = fields.Boolean(default=True)
    member_count = fields.Integer(compute="_compute_member_count")

    _threshold_positive = models.Constraint(
        "CHECK(threshold_points >= 0 AND threshold_amount >= 0)", "Tier thresholds cannot be negative.")
    _multiplier_positive = models.Constraint("CHECK(multiplier > 0)", "The earn multiplier must be positive.")

    def _compute_member_count(self):
        counts = dict(self.env["klodr.member"]._read_group(
            [("tier_id", "in", self.ids)], ["tier_id"], ["__count"]))
        for tier in self:
            tier.member_count = counts.get(tier, 0)

    def _levels(self):
        """These tiers as the pure ladder of tools.tiers."""
        return [TierLevel(t.id, t.name, t.threshold_points, Decimal(str(t.threshold_amount or 0)), t.sequence)
                for t in self]


class KlodrTierHistory(models.Model):
    """Every tier change of a member: when, from, to and why."""

    _name = "klodr.tier.history"
    _description = "Loyalty Tier Change"
    _order = "date desc, id desc"

    member_id = fields.Many2one("klodr.member", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="member_id.company_id", store=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    from_tier_id = fields.Many2one("klodr.tier", string="From", ondelete="set null")
    to_tier_id = fields.Many2one("klodr.tier", string="To", ondelete="set null")
    reason = fields.Char()
    window_points = fields.Integer(string="Points in Window")
