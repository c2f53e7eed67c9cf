from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools.safe_eval import safe_eval

from ..tools import rules as pure

EVENTS = [
    ("signup", "Sign-up"),
    ("birthday", "Birthday"),
    ("anniversary", "Anniversary"),
    ("referral_referee", "Referral: new member"),
    ("referral_referrer", "Referral: referrer, at the new member's first purchase"),
    ("checkin", "Check-in"),
    ("review", "Review"),
    ("social_share", "Social share"),
    ("custom", "Custom event"),
]


class KlodrEarnRule(models.Model):
    """How members earn: per amount, per order, by bands, per product or category, or on events."""

    _name = "klodr.earn.rule"
    _inherit = ["klodr.cached.config"]
    _description = "Loyalty Earn Rule"
    _order = "program_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one("klodr.program", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    kind = fields.Selection(
        [
            (pure.KIND_AMOUNT, "Points per amount spent"),
            (pure.KIND_FIXED, "Fixed points per order"),
            (pure.KIND_BANDS, "Points by amount band"),
            (pure.KIND_PER_UNIT, "Points per unit of products"),
            (pure.KIND_EVENT, "Points on an event"),
        ],
        required=True, default=pure.KIND_AMOUNT,
    )
    points = fields.Integer(default=1, help="Points given (per amount unit, per order, per item or per event).")
    spend_unit = fields.Monetary(string="Per Amount", default=10.0, currency_field="currency_id",
                                 help="For points per amount: the points are given for every this much spent.")
    rounding = fields.Selection([("down", "Down"), ("half_up", "Half up"), ("up", "Up")], default="down",
                                required=True)
    band_ids = fields.One2many("klodr.earn.rule.band", "rule_id", string="Bands", copy=True)
    product_ids = fields.Many2many("product.product", string="Products",
                                   help="Only these products count (empty: every product).")
    product_category_ids = fields.Many2many("product.category", string="Product Categories",
                                            help="Only products of these categories count (empty: all).")
    event = fields.Selection(EVENTS)
    custom_event = fields.Char(help="Event name integrations send (lower case, no spaces).")
    date_from = fields.Date()
    date_to = fields.Date()
    weekdays = fields.Char(help="Days of the week it applies, as digits 1 (Monday) to 7 (Sunday); empty: every day.")
    store_ids = fields.Many2many("klodr.store", string="Stores", help="Empty: every store.")
    tier_ids = fields.Many2many("klodr.tier", string="Member Tiers", help="Empty: every tier.")
    partner_domain = fields.Char(string="Customer Segment", default="[]",
                                 help="Only members whose contact matches this filter.")
    min_amount = fields.Monetary(string="Minimum Amount", currency_field="currency_id")
    cap_unit = fields.Selection([(pure.CAP_TIMES, "Times"), (pure.CAP_POINTS, "Points")],
                                default=pure.CAP_TIMES, required=True)
    cap_day = fields.Integer(string="Cap per Day")
    cap_month = fields.Integer(string="Cap per Month")
    cap_lifetime = fields.Integer(string="Cap per Lifetime")
    tier_multiplied = fields.Boolean(string="Multiplied by Tier", default=True)
    exclusive = fields.Boolean(help="When it applies, no other base rule counts for the order.")
    entry_type = fields.Selection([("earn", "Earn"), ("bonus", "Bonus")], default="earn", required=True,
                                  help="Ledger type of the points it gives.")

    _caps_positive = models.Constraint(
        "CHECK(cap_day >= 0 AND cap_month >= 0 AND cap_lifetime >= 0)", "Caps cannot be negative.")

    @api.constrains("kind", "points", "spend_unit", "event", "custom_event", "date_from", "date_to", "weekdays",
                    "partner_domain", "band_ids")
    def _check_rule(self):
        for rule in self:
            if rule.kind != pure.KIND_BANDS and rule.points <= 0:
                raise ValidationError(self.env._("Rule %s: points must be positive.", rule.name))
            if rule.kind == pure.KIND_AMOUNT and rule.spend_unit <= 0:
                raise ValidationError(self.env._("Rule %s: the amount per points must be positive.", rule.name))
            if rule.kind == pure.KIND_EVENT and not rule.event:
                raise ValidationError(self.env._("Rule %s: choose the event.", rule.name))
            if rule.event == "custom" and not (rule.custom_event or "").strip():
                raise ValidationError(self.env._("Rule %s: name the custom event.", rule.name))
            if rule.date_from and rule.date_to and rule.date_from > rule.date_to:
                raise ValidationError(self.env._("Rule %s: the period ends before it starts.", rule.name))
            if rule.weekdays and not set(rule.weekdays) <= set("1234567"):
                raise ValidationError(self.env._("Rule %s: days of the week are digits 1 to 7.", rule.name))
            try:
                Domain(safe_eval(rule.partner_domain or "[]"))
            except Exception as exc:
                raise ValidationError(self.env._("Rule %s: invalid customer segment.", rule.name)) from exc
            if rule.kind == pure.KIND_BANDS and not rule.band_ids:
                raise ValidationError(self.env._("Rule %s: add at least one band.", rule.name))

    @api.onchange("kind")
    def _onchange_kind(self):
        if self.kind in (pure.KIND_BANDS, pure.KIND_EVENT):
            self.tier_multiplied = False
            self.entry_type = "bonus"

    @property
    def event_name(self):
        return (self.custom_event or "").strip().lower() if self.event == "custom" else self.event

    def _to_pure(self, member=None):
        """The pure rule (tools.rules.Rule); ``in_segment`` checked for ``member``'s contact."""
        self.ensure_one()
        in_segment = True
        domain = safe_eval(self.partner_domain or "[]")
        if domain and member is not None:
            partner = member.partner_id
            in_segment = bool(partner) and bool(
                self.env["res.partner"].sudo().search_count(Domain("id", "=", partner.id) & Domain(domain)))
        return pure.Rule(
            id=self.id,
            name=self.name,
            kind=self.kind,
            points=self.points,
            spend_unit=Decimal(str(self.spend_unit or 0)),
            rounding=self.rounding,
            bands=tuple(pure.Band(Decimal(str(b.amount_from)), Decimal(str(b.amount_to)) if b.amount_to else None,
                                  b.points) for b in self.band_ids.sorted("amount_from")),
            products=frozenset(str(p.id) for p in self.product_ids),
            categories=frozenset(str(c.id) for c in self.product_category_ids),
            event=self.event_name,
            date_from=self.date_from or None,
            date_to=self.date_to or None,
            weekdays=frozenset(int(d) - 1 for d in (self.weekdays or "")),
            stores=frozenset(self.store_ids.ids),
            tiers=frozenset(self.tier_ids.ids),
            in_segment=in_segment,
            min_amount=Decimal(str(self.min_amount or 0)),
            caps=pure.Caps(self.cap_day, self.cap_month, self.cap_lifetime, self.cap_unit),
            tier_multiplied=self.tier_multiplied,
            exclusive=self.exclusive,
            sequence=self.sequence,
            entry_type=self.entry_type,
        )


class KlodrEarnRuleBand(models.Model):
    _name = "klodr.earn.rule.band"
    _inherit = ["klodr.cached.config"]
    _description = "Loyalty Earn Rule Band"
    _order = "amount_from"

    rule_id = fields.Many2one("klodr.earn.rule", required=True, ondelete="cascade", index=True)
    currency_id = fields.Many2one(related="rule_id.currency_id")
    amount_from = fields.Monetary(required=True, currency_field="currency_id")
    amount_to = fields.Monetary(currency_field="currency_id", help="Exclusive; empty: no upper bound.")
    points = fields.Integer(required=True)

    _band_valid = models.Constraint(
        "CHECK(amount_from >= 0 AND points >= 0 AND (amount_to IS NULL OR amount_to = 0 OR amount_to > amount_from))",
        "A band starts at zero or more, ends after it starts, and gives zero or more points.")
