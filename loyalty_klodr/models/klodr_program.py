from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import ormcache
from odoo.tools.safe_eval import safe_eval

from odoo.addons.base.models.res_partner import _tz_get

from ..tools.expiry import POLICY_END_OF_MONTH, POLICY_MONTHS, POLICY_NEVER
from ..tools.tiers import TierLevel

# Program fields the hot paths read from ormcaches (_ledger_settings, _phone_region, _tier_table).
CACHED_FIELDS = frozenset({"company_id", "expiry_policy", "expiry_months", "tz", "country_id",
                           "tier_window_months", "program_type"})


class KlodrProgram(models.Model):
    _name = "klodr.program"
    _description = "Loyalty Program"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
        # Entries carry the company of their program: it cannot move once points exist.
        readonly=False,
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    points_name = fields.Char(default="Points", required=True, translate=True)
    points_symbol = fields.Char(default="pts", required=True)
    point_value = fields.Monetary(
        string="Value of One Point", currency_field="currency_id", default=0.25, required=True,
        help="Money a point is worth when redeemed.",
    )
    min_redeem_balance = fields.Integer(
        string="Minimum Balance to Redeem", default=100,
        help="A member needs at least this many spendable points to redeem.",
    )
    max_redeem_share = fields.Float(
        string="Maximum Share Payable with Points (%)", default=50.0,
        help="At most this percentage of an order can be paid with points.",
    )
    expiry_policy = fields.Selection(
        [
            (POLICY_NEVER, "Never"),
            (POLICY_MONTHS, "N months after earning"),
            (POLICY_END_OF_MONTH, "End of the Nth month after earning"),
        ],
        default=POLICY_MONTHS, required=True, tracking=True,
    )
    expiry_months = fields.Integer(string="Expiry (months)", default=12)
    tier_window_months = fields.Integer(
        string="Tier Window (months)", default=12,
        help="Tiers are computed on the points earned in this rolling window.",
    )
    otp_required = fields.Boolean(
        string="OTP Required to Redeem", default=True,
        help="Redemptions wait for the code sent to the member's mobile.",
    )
    otp_validity_minutes = fields.Integer(
        string="OTP Validity (minutes)", default=5,
        help="How long a code is valid; the redemption's points stay held as long.")
    otp_max_attempts = fields.Integer(string="Wrong Codes Before Lock", default=3)
    otp_resend_seconds = fields.Integer(string="Seconds Between Codes", default=30)
    otp_max_sends = fields.Integer(string="Codes per Redemption", default=5)
    otp_max_per_member_hour = fields.Integer(string="Codes per Member per Hour", default=10)
    otp_max_per_phone_hour = fields.Integer(string="Codes per Phone per Hour", default=10)
    program_type = fields.Selection(
        [("points", "Points"), ("stamps", "Stamp card")], default="points", required=True,
        help="Stamp card: every qualifying purchase adds a stamp; a full card issues its reward.")
    stamps_per_card = fields.Integer(default=10)
    stamp_reward_id = fields.Many2one("klodr.reward", string="Full Card Reward",
                                      domain="[('program_id', '=', id)]",
                                      help="Issued automatically each time a member's card is full.")
    country_id = fields.Many2one(
        "res.country", string="Country of Mobile Numbers",
        default=lambda self: self.env.company.country_id,
        help="Numbers given without a country code are read as numbers of this country "
             "(default: the company's country).")
    tz = fields.Selection(_tz_get, string="Timezone", required=True,
                          default=lambda self: self.env.user.tz or self.env.company.partner_id.tz or "UTC",
                          help="Days, months, birthdays and caps are counted in this timezone.")
    tier_ids = fields.One2many("klodr.tier", "program_id", string="Tiers")
    rule_ids = fields.One2many("klodr.earn.rule", "program_id", string="Earn Rules")
    campaign_ids = fields.One2many("klodr.campaign", "program_id", string="Campaigns")
    member_ids = fields.One2many("klodr.member", "program_id", string="Members")
    member_count = fields.Integer(compute="_compute_member_stats")
    points_outstanding = fields.Integer(compute="_compute_member_stats")
    # Watermark of the expiry run: every lot expiring before this date and posted
    # up to expiry_checked_entry_id has been settled (consumed or expired).
    expiry_checked_until = fields.Date(readonly=True, copy=False)
    expiry_checked_entry_id = fields.Integer(readonly=True, copy=False)

    _check_point_value = models.Constraint(
        "CHECK(point_value >= 0)", "The value of a point cannot be negative.")
    _check_redeem_share = models.Constraint(
        "CHECK(max_redeem_share > 0 AND max_redeem_share <= 100)",
        "The maximum share payable with points is a percentage between 0 and 100.")
    _check_min_redeem = models.Constraint(
        "CHECK(min_redeem_balance >= 0)", "The minimum balance to redeem cannot be negative.")

    @api.constrains("expiry_policy", "expiry_months")
    def _check_expiry(self):
        for program in self:
            if program.expiry_policy != POLICY_NEVER and program.expiry_months < 1:
                raise ValidationError(self.env._("Points must expire after at least one month."))

    @api.constrains("program_type", "stamps_per_card")
    def _check_stamps(self):
        for program in self:
            if program.program_type == "stamps" and program.stamps_per_card < 1:
                raise ValidationError(self.env._("A stamp card holds at least one stamp."))

    @api.constrains("tier_window_months", "otp_validity_minutes", "otp_max_attempts", "otp_resend_seconds",
                    "otp_max_sends", "otp_max_per_member_hour", "otp_max_per_phone_hour")
    def _check_windows(self):
        for program in self:
            if program.tier_window_months < 1:
                raise ValidationError(self.env._("The tier window is at least one month."))
            if min(program.otp_validity_minutes, program.otp_max_attempts, program.otp_max_sends,
                   program.otp_max_per_member_hour, program.otp_max_per_phone_hour) < 1 \
                    or program.otp_resend_seconds < 0:
                raise ValidationError(self.env._("OTP settings must be positive."))

    def write(self, vals):
        if "company_id" in vals:
            moved = self.filtered(lambda p: p.company_id.id != vals["company_id"])
            if moved and self.env["klodr.ledger.entry"].sudo().search_count(
                    [("program_id", "in", moved.ids)], limit=1):
                raise ValidationError(self.env._(
                    "A program with ledger entries cannot move to another company."))
        result = super().write(vals)
        if CACHED_FIELDS & vals.keys():
            self.env.registry.clear_cache()  # _ledger_settings, _phone_region, _tier_table
        return result

    def _compute_member_stats(self):
        data = {
            program.id: (count, balance)
            for program, count, balance in self.env["klodr.member"]._read_group(
                [("program_id", "in", self.ids)], ["program_id"], ["__count", "balance:sum"])
        }
        for program in self:
            program.member_count, program.points_outstanding = data.get(program.id, (0, 0))

    def action_open_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_member_action")
        action["domain"] = [("program_id", "=", self.id)]
        action["context"] = {"default_program_id": self.id}
        return action

    @ormcache("self.id")
    def _ledger_settings(self):
        """``(company id, expiry policy, expiry months, timezone)``: read on every posting, so cached."""
        self.ensure_one()
        program = self.sudo()
        return program.company_id.id, program.expiry_policy, program.expiry_months, program.tz or "UTC"

    @ormcache("self.id", "self.env.lang")
    def _tier_table(self):
        """What every earn needs of the program's tiers, cached (cleared when a tier or these
        settings change): ``levels`` (the active tiers as ``tools.tiers.TierLevel``, ladder order),
        ``by_id`` (every tier, archived ones too: ``code``, ``name`` in the language, ``multiplier``),
        ``uses_amount`` (a tier has a spend threshold), ``window_months``, ``program_type``."""
        self.ensure_one()
        program = self.sudo()
        tiers = self.env["klodr.tier"].sudo().with_context(active_test=False).search(
            [("program_id", "=", program.id)])
        active = tiers.filtered("active")
        return {
            "levels": tuple(TierLevel(t.id, t.name, t.threshold_points, Decimal(str(t.threshold_amount or 0)),
                                      t.sequence) for t in active),
            "by_id": {t.id: {"code": t.code or None, "name": t.name, "multiplier": t.multiplier or 1.0}
                      for t in tiers},
            "uses_amount": any(active.mapped("threshold_amount")),
            "window_months": program.tier_window_months or 12,
            "program_type": program.program_type,
        }

    @ormcache("self.id")
    def _phone_region(self):
        """ISO code of the country local mobile numbers belong to.

        Cached: every look-up by mobile number asks, and reading it costs three queries on
        a fresh request. Cleared when the program's or the company's country changes.
        """
        self.ensure_one()
        program = self.sudo()
        # the company's partner holds the stored country (company.country_id is computed)
        return (program.country_id or program.company_id.partner_id.country_id).code

    @ormcache("self.id", "self.env.lang")
    def _compiled_rules(self):
        """The active rules and campaigns as pure objects, cached until one of them changes.

        :return: ``(rules, segments, campaigns)``: segments maps the id of each rule limited
            to a customer segment to its domain, checked per member at evaluation.
        """
        self.ensure_one()
        rules = self.sudo().rule_ids.filtered("active")
        segments = {}
        for rule in rules:
            domain = safe_eval(rule.partner_domain or "[]")
            if domain:
                segments[rule.id] = domain
        campaigns = self.sudo().campaign_ids.filtered("active")
        return (tuple(rule._to_pure() for rule in rules), segments,
                tuple(campaign._to_pure() for campaign in campaigns))

    def action_simulate(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_rule_simulator_action")
        action["context"] = {"default_program_id": self.id}
        return action

    def action_verify_ledger(self):
        """Check every invariant of this program's ledger and say what broke."""
        breaks = self.env["klodr.ledger.entry"]._verify_ledger(program_ids=self.ids)
        if breaks:
            message = self.env._("%(count)s ledger invariant(s) broken:\n%(list)s",
                                 count=len(breaks), list="\n".join(map(str, breaks[:50])))
            kind = "danger"
        else:
            message = self.env._("The ledger is whole: hash chains, balances, lots and holds agree.")
            kind = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": bool(breaks)},
        }

    def _demo_load_ledger(self):
        """Demo history through the real flows: a welcome bonus, then purchases over the last year,
        leaving a member at each tier and some points expiring soon."""
        from dateutil.relativedelta import relativedelta  # noqa: PLC0415

        now = fields.Datetime.now()
        history = {
            "klodr_member_asha": [(11, 1500, "BLR-IND"), (2, 1000, "BLR-IND")],
            "klodr_member_ravi": [(8, 6000, "BLR-KOR"), (3, 3000, "BLR-KOR")],
            "klodr_member_meera": [(10, 25000, "WEB"), (4, 27000, "WEB")],
            "klodr_member_vikram": [],
        }
        for program in self:
            stores = {s.code: s for s in self.env["klodr.store"].search([("company_id", "=", program.company_id.id)])}
            for xmlid, purchases in history.items():
                member = self.env.ref(f"loyalty_klodr.{xmlid}", raise_if_not_found=False)
                if not member or member.program_id != program:
                    continue
                member._earn_event("signup", ref=f"member:{member.id}",
                                   when=now - relativedelta(months=12, days=-5), missing_ok=True)
                for number, (months_ago, amount, store_code) in enumerate(purchases, start=1):
                    member._earn_order(amount, order_ref=f"DEMO-{member.code}-{number}",
                                       when=now - relativedelta(months=months_ago), store=stores.get(store_code))
