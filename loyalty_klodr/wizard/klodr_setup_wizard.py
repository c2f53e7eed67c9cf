from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Command

# What each template sets on the program; money amounts are in the company's currency.
TEMPLATES = {
    "retail": {
        "name": "Rewards Club",
        "point_value": 0.25,
        "program": {
            "program_type": "points", "points_name": "Points", "points_symbol": "pts",
            "min_redeem_balance": 100, "max_redeem_share": 50.0, "otp_required": True,
            "expiry_policy": "months", "expiry_months": 12, "tier_window_months": 12,
        },
    },
    "cafe": {
        "name": "Coffee Card",
        "point_value": 10.0,
        "program": {
            "program_type": "stamps", "stamps_per_card": 10, "points_name": "Stamps", "points_symbol": "stamps",
            "min_redeem_balance": 10, "max_redeem_share": 100.0, "otp_required": True,
            "expiry_policy": "months", "expiry_months": 12, "tier_window_months": 12,
        },
    },
    "b2b": {
        "name": "Trade Partner Program",
        "point_value": 1.0,
        "program": {
            "program_type": "points", "points_name": "Points", "points_symbol": "pts",
            "min_redeem_balance": 500, "max_redeem_share": 50.0, "otp_required": False,
            "expiry_policy": "months", "expiry_months": 24, "tier_window_months": 12,
        },
    },
}


def _event(name, event, points, **caps):
    return Command.create({"name": name, "kind": "event", "event": event, "points": points,
                           "tier_multiplied": False, "entry_type": "bonus", **caps})


class KlodrSetupWizard(models.TransientModel):
    """Creates a ready-to-use program from a template in one click."""

    _name = "klodr.setup.wizard"
    _description = "Loyalty Program Setup Assistant"

    template = fields.Selection(
        [("retail", "Retail chain: points, Bronze/Silver/Gold tiers, bonuses, referrals"),
         ("cafe", "Cafe: stamp card, a stamp per purchase"),
         ("b2b", "Business customers: points per 100 spent, tiers by spend")],
        required=True, default="retail")
    name = fields.Char(string="Program Name", compute="_compute_from_template", store=True, readonly=False,
                       precompute=True, required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    point_value = fields.Monetary(string="Value of One Point", currency_field="currency_id",
                                  compute="_compute_from_template", store=True, readonly=False, precompute=True,
                                  help="Money a point (or a stamp) is worth when redeemed.")
    stamp_min_amount = fields.Monetary(string="Minimum Purchase for a Stamp", currency_field="currency_id",
                                       default=100.0)
    summary = fields.Text(compute="_compute_summary")

    @api.depends("template")
    def _compute_from_template(self):
        names = {"retail": self.env._("Rewards Club"), "cafe": self.env._("Coffee Card"),
                 "b2b": self.env._("Trade Partner Program")}
        for wizard in self:
            template = TEMPLATES.get(wizard.template) or TEMPLATES["retail"]
            wizard.name = names.get(wizard.template) or template["name"]
            wizard.point_value = template["point_value"]

    @api.depends("template")
    def _compute_summary(self):
        texts = {
            "retail": self.env._(
                "1 point per 10 spent, multiplied by the tier (Bronze x1, Silver x1.25 from 1,000 points, "
                "Gold x1.5 from 5,000 points earned in 12 months).\n"
                "Big basket bonus: +100 points from 5,000, +250 from 10,000.\n"
                "100 points welcome bonus; referrals: 100 for the new member, 200 for the referrer.\n"
                "Check-in: 20 points once a day; review: 50 points, 3 a month.\n"
                "Rewards: a fixed discount for 200 points and a 10% discount for Gold members.\n"
                "Points expire after 12 months; redemption needs 100 points and an OTP."),
            "cafe": self.env._(
                "Stamp card of 10 stamps: one stamp per purchase of at least the minimum amount; a full card "
                "gives a free drink worth 10 stamps.\n"
                "Stamps expire after 12 months."),
            "b2b": self.env._(
                "1 point per 100 spent, multiplied by the tier: Standard, Preferred (x1.25 from 5,00,000 "
                "spent in 12 months), Key Account (x1.5 from 20,00,000).\n"
                "No OTP to redeem; points expire after 24 months; redemption needs 500 points."),
        }
        for wizard in self:
            wizard.summary = texts.get(wizard.template, "")

    def action_create(self):
        """Create the program, its tiers, rules (and rewards), then open it."""
        self.ensure_one()
        if not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise AccessError(self.env._("Only a Loyalty Manager can create programs."))
        program = getattr(self, f"_create_{self.template}")()
        program.message_post(body=self.env._("Created by the setup assistant (template: %s).",
                                             dict(self._fields["template"]._description_selection(self.env))
                                             [self.template]))
        return {
            "type": "ir.actions.act_window",
            "res_model": "klodr.program",
            "res_id": program.id,
            "view_mode": "form",
            "views": [[False, "form"]],
            "target": "current",
        }

    def _program_vals(self):
        template = TEMPLATES[self.template]
        return dict(template["program"], name=self.name, company_id=self.company_id.id,
                    point_value=self.point_value)

    def _tier(self, name, code, sequence, color, multiplier, points=0, amount=0.0):
        return Command.create({"name": name, "code": code, "sequence": sequence, "color": color,
                               "multiplier": multiplier, "threshold_points": points, "threshold_amount": amount})

    def _create_retail(self):
        bands = [Command.create({"amount_from": 5000, "amount_to": 10000, "points": 100}),
                 Command.create({"amount_from": 10000, "points": 250})]
        program = self.env["klodr.program"].create(dict(
            self._program_vals(),
            tier_ids=[
                self._tier(self.env._("Bronze"), "bronze", 1, "#cd7f32", 1.0),
                self._tier(self.env._("Silver"), "silver", 2, "#a8a9ad", 1.25, points=1000),
                self._tier(self.env._("Gold"), "gold", 3, "#d4af37", 1.5, points=5000),
            ],
            rule_ids=[
                Command.create({"name": self.env._("1 point per 10 spent"), "sequence": 1, "kind": "amount",
                                "points": 1, "spend_unit": 10.0, "rounding": "down", "tier_multiplied": True,
                                "entry_type": "earn"}),
                Command.create({"name": self.env._("Big basket bonus"), "sequence": 2, "kind": "bands", "points": 0,
                                "tier_multiplied": False, "entry_type": "bonus", "band_ids": bands}),
                _event(self.env._("Welcome bonus"), "signup", 100, cap_lifetime=1),
                _event(self.env._("Referred by a friend"), "referral_referee", 100, cap_lifetime=1),
                _event(self.env._("Referral reward"), "referral_referrer", 200),
                _event(self.env._("Store check-in"), "checkin", 20, cap_day=1),
                _event(self.env._("Product review"), "review", 50, cap_month=3),
            ],
        ))
        if "klodr.reward" in self.env:
            gold = program.tier_ids.filtered(lambda tier: tier.code == "gold")
            value = self.point_value or TEMPLATES["retail"]["point_value"]
            self.env["klodr.reward"].create([
                {"name": self.env._("Discount %s", program.currency_id.format(200 * value)), "program_id": program.id,
                 "reward_type": "discount_fixed", "points_cost": 200, "value": 200 * value},
                {"name": self.env._("Gold members: %s off", "10%"), "program_id": program.id,
                 "reward_type": "discount_percent", "points_cost": 1000, "discount_percent": 10.0,
                 "max_discount": 1000 * value, "min_tier_id": gold.id},
            ])
        return program

    def _create_cafe(self):
        program = self.env["klodr.program"].create(dict(
            self._program_vals(),
            rule_ids=[Command.create({
                "name": self.env._("One stamp per purchase"), "kind": "fixed", "points": 1,
                "min_amount": self.stamp_min_amount, "tier_multiplied": False, "entry_type": "earn",
            })],
        ))
        if "klodr.reward" in self.env and "stamp_reward_id" in program._fields:
            stamps = program.stamps_per_card
            value = stamps * (self.point_value or TEMPLATES["cafe"]["point_value"])
            program.stamp_reward_id = self.env["klodr.reward"].create({
                "name": self.env._("Free drink (up to %s)", program.currency_id.format(value)),
                "program_id": program.id, "reward_type": "discount_fixed", "points_cost": stamps, "value": value,
            })
        return program

    def _create_b2b(self):
        return self.env["klodr.program"].create(dict(
            self._program_vals(),
            tier_ids=[
                self._tier(self.env._("Standard"), "standard", 1, "#6c757d", 1.0),
                self._tier(self.env._("Preferred"), "preferred", 2, "#0d6efd", 1.25, amount=500000),
                self._tier(self.env._("Key Account"), "key_account", 3, "#d4af37", 1.5, amount=2000000),
            ],
            rule_ids=[Command.create({
                "name": self.env._("1 point per 100 spent"), "kind": "amount", "points": 1, "spend_unit": 100.0,
                "rounding": "down", "tier_multiplied": True, "entry_type": "earn",
            })],
        ))
