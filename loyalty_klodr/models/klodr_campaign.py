from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import rules as pure


class KlodrCampaign(models.Model):
    """A period in which extra points layer over the base rules ("double points in July")."""

    _name = "klodr.campaign"
    _description = "Loyalty Campaign"
    _inherit = ["mail.thread", "klodr.cached.config"]
    _order = "date_from desc, id desc"

    name = fields.Char(required=True, translate=True, tracking=True)
    program_id = fields.Many2one("klodr.program", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    active = fields.Boolean(default=True)
    date_from = fields.Date(required=True, tracking=True)
    date_to = fields.Date(required=True, tracking=True)
    multiplier = fields.Float(default=2.0, digits=(6, 2), tracking=True,
                              help="2 doubles the points of the rules it covers.")
    bonus_points = fields.Integer(help="Extra points per qualifying order.")
    rule_ids = fields.Many2many("klodr.earn.rule", string="Rules Covered",
                                help="Empty: every rule multiplied by tier.")
    promo_code = fields.Char(help="When set, the campaign applies only to orders that give this code, "
                                  "once per member.")
    store_ids = fields.Many2many("klodr.store", string="Stores")
    tier_ids = fields.Many2many("klodr.tier", string="Member Tiers")
    min_amount = fields.Monetary(currency_field="currency_id")

    _promo_code_unique = models.Constraint("UNIQUE(program_id, promo_code)",
                                           "A promo code is used by one campaign of the program.")

    @api.constrains("date_from", "date_to", "multiplier", "bonus_points")
    def _check_campaign(self):
        for campaign in self:
            if campaign.date_from > campaign.date_to:
                raise ValidationError(self.env._("Campaign %s ends before it starts.", campaign.name))
            if campaign.multiplier < 1 or campaign.bonus_points < 0:
                raise ValidationError(self.env._(
                    "Campaign %s: the multiplier is at least 1 and the bonus is not negative.", campaign.name))

    def _to_pure(self, member=None):
        self.ensure_one()
        used = False
        if self.promo_code and member is not None:
            used = bool(self.env["klodr.ledger.entry"].sudo().search_count([
                ("program_id", "=", self.program_id.id), ("idempotency_key", "=", self._promo_key(member))], limit=1))
        return pure.Campaign(
            id=self.id, name=self.name, date_from=self.date_from, date_to=self.date_to,
            multiplier=Decimal(str(self.multiplier)), bonus_points=self.bonus_points,
            rule_ids=frozenset(self.rule_ids.ids), promo_code=self.promo_code or None, promo_used=used,
            stores=frozenset(self.store_ids.ids), tiers=frozenset(self.tier_ids.ids),
            min_amount=Decimal(str(self.min_amount or 0)),
        )

    def _promo_key(self, member):
        """Idempotency key of a promo code's points: unique per program, so once per member."""
        return f"campaign:{self.id}:member:{member.id}"
