from datetime import datetime
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..exceptions import LoyaltyError
from ..tools import rules as pure_rules
from ..tools.codes import normalize_reference

CLAIM_RULE_KINDS = (pure_rules.KIND_FIXED, pure_rules.KIND_AMOUNT, pure_rules.KIND_BANDS)
# What the claimant states: frozen once the claim is decided.
_EVIDENCE_FIELDS = frozenset({"member_id", "rule_id", "amount", "receipt_ref", "receipt_date", "store_id",
                              "receipt_file", "receipt_filename", "note"})
# Written only by approve and reject.
_DECISION_FIELDS = frozenset({"state", "points", "reviewed_by_id", "reviewed_date"})


def why_no_points(rule, member, order):
    """Why the pure ``rule`` gives nothing for ``order`` (a reason key), or None when it gives points."""
    day = order.when.date()
    if (rule.date_from and day < rule.date_from) or (rule.date_to and day > rule.date_to):
        return "period"
    if rule.weekdays and day.weekday() not in rule.weekdays:
        return "weekday"
    if rule.stores and order.store not in rule.stores:
        return "store"
    if rule.tiers and member.tier not in rule.tiers:
        return "tier"
    if not rule.in_segment:
        return "segment"
    if order.amount < rule.min_amount:
        return "minimum"
    points = pure_rules.base_points(rule, order)
    if rule.tier_multiplied:
        points = int(Decimal(points) * member.multiplier)
    if points <= 0:
        return "nothing"
    capped = pure_rules.apply_caps(rule, member.usage.get(rule.id), points)
    if not capped:
        return "cap"
    return None


class KlodrClaim(models.Model):
    """A member's evidence of a purchase made outside the tills (a pharmacy receipt, a partner's
    invoice), reviewed by staff: approved, it gives the points of one earn rule, once."""

    _name = "klodr.claim"
    _description = "Loyalty Points Claim"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "receipt_ref"

    member_id = fields.Many2one("klodr.member", required=True, index=True, ondelete="restrict", tracking=True)
    program_id = fields.Many2one(related="member_id.program_id", store=True, index=True)
    company_id = fields.Many2one(related="member_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    rule_id = fields.Many2one(
        "klodr.earn.rule", string="Earn Rule", required=True, ondelete="restrict", tracking=True,
        domain="[('program_id', '=', program_id), ('kind', 'in', ('fixed', 'amount', 'bands'))]",
        help="The rule whose points (and conditions: minimum amount, period, stores, caps) the claim asks for.")
    amount = fields.Monetary(string="Receipt Amount", currency_field="currency_id", required=True, tracking=True)
    receipt_ref = fields.Char(string="Receipt Number", required=True, tracking=True)
    receipt_date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    store_id = fields.Many2one("klodr.store", ondelete="restrict",
                               help="Where the purchase was made, when the rule depends on it.")
    receipt_file = fields.Binary(string="Receipt", attachment=True)
    receipt_filename = fields.Char()
    note = fields.Text(help="What the member says about the purchase.")
    state = fields.Selection(
        [("submitted", "To Review"), ("approved", "Approved"), ("rejected", "Rejected")],
        default="submitted", required=True, readonly=True, index=True, tracking=True, copy=False)
    reject_reason = fields.Text(tracking=True, copy=False)
    points = fields.Integer(readonly=True, copy=False, help="Points the approval gave.")
    reviewed_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    reviewed_date = fields.Datetime(readonly=True, copy=False)
    submitted_by_id = fields.Many2one("res.users", readonly=True,
                                      default=lambda self: self.env.user)
    channel = fields.Selection([("backend", "Staff"), ("portal", "Member Portal"), ("api", "API")],
                               default="backend", required=True, readonly=True)
    entry_ids = fields.One2many("klodr.ledger.entry", "source_id", string="Ledger Entries", readonly=True,
                                domain=[("source_model", "=", "klodr.claim")])
    duplicate_count = fields.Integer(
        compute="_compute_duplicate_count",
        help="Other claims of the program (any member) with the same receipt number.")

    _amount_positive = models.Constraint("CHECK(amount >= 0)", "The receipt amount cannot be negative.")
    # A rejected claim does not block a corrected one for the same receipt.
    _receipt_unique = models.UniqueIndex(
        "(member_id, rule_id, receipt_ref) WHERE state != 'rejected'",
        "This receipt was already claimed by the member for this rule.")

    @api.depends("receipt_ref", "program_id")
    def _compute_duplicate_count(self):
        for claim in self:
            if not claim.receipt_ref or not claim.program_id:
                claim.duplicate_count = 0
                continue
            claim.duplicate_count = self.sudo().search_count([
                ("program_id", "=", claim.program_id.id), ("receipt_ref", "=", claim.receipt_ref),
                ("state", "!=", "rejected"), ("id", "!=", claim._origin.id or 0)])

    @api.depends("receipt_ref", "member_id")
    def _compute_display_name(self):
        for claim in self:
            claim.display_name = " - ".join(filter(None, [claim.receipt_ref, claim.member_id.name]))

    @api.constrains("rule_id", "member_id")
    def _check_rule(self):
        for claim in self:
            if claim.rule_id.program_id != claim.member_id.program_id:
                raise ValidationError(self.env._("The rule %s belongs to another program.", claim.rule_id.name))
            if claim.rule_id.kind not in CLAIM_RULE_KINDS:
                raise ValidationError(self.env._(
                    "Rule %s: a receipt can only claim a rule of points per amount, per order or by band.",
                    claim.rule_id.name))

    @api.constrains("receipt_date", "member_id")
    def _check_receipt_date(self):
        for claim in self:
            if claim.state == "submitted" and claim.receipt_date > self.env["klodr.member"]._local_today(
                    claim.member_id.program_id):
                raise ValidationError(self.env._("The receipt date cannot be in the future."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if _DECISION_FIELDS & vals.keys() and not self.env.context.get("klodr_claim_decide"):
                raise UserError(self.env._("A claim is submitted first, then approved or rejected."))
            if "receipt_ref" in vals:
                vals["receipt_ref"] = normalize_reference(vals["receipt_ref"]) or False
            member = self.env["klodr.member"].browse(vals.get("member_id"))
            if member and member.state != "active":
                raise LoyaltyError(self.env._("Member %s is not active.", member.code), code="member_inactive")
        return super().create(vals_list)

    def write(self, vals):
        if _DECISION_FIELDS & vals.keys() and not self.env.context.get("klodr_claim_decide"):
            raise UserError(self.env._("Approve or reject the claim with its buttons."))
        if (_EVIDENCE_FIELDS | {"reject_reason"}) & vals.keys() and not self.env.context.get("klodr_claim_decide"):
            decided = self.filtered(lambda c: c.state != "submitted")
            if decided:
                raise UserError(self.env._("The claim %s is already decided: it cannot change.",
                                           decided[0].display_name))
        if "receipt_ref" in vals:
            vals["receipt_ref"] = normalize_reference(vals["receipt_ref"]) or False
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_decided(self):
        if self.filtered(lambda c: c.state != "submitted"):
            raise UserError(self.env._("A decided claim is kept: it cannot be deleted."))

    # ------------------------------------------------------------------
    # Decision
    # ------------------------------------------------------------------
    def _lock_state(self):
        """Lock the claim row and return its committed state."""
        self.flush_recordset()
        self.env.cr.execute(SQL("SELECT state FROM klodr_claim WHERE id = %s FOR UPDATE", self.id))
        state = self.env.cr.fetchone()[0]
        self.invalidate_recordset(["state"])
        return state

    def action_approve(self):
        for claim in self:
            claim._approve()
        return True

    def _approve(self):
        """Give the rule's points for this receipt, once: a second approval writes nothing.

        :return: the ledger entries of the claim.
        :raise UserError: when the rule gives nothing for it (the message says why), or when the
            claim was rejected.
        """
        self.ensure_one()
        self.check_access("write")
        member = self.member_id
        # The member first (as every earn does), then the claim: concurrent approvals serialise here.
        member_state = member._lock_for_points()[member.id][2]
        state = self._lock_state()
        if state == "approved":
            return self.entry_ids
        if state != "submitted":
            raise UserError(self.env._("The claim %s was rejected: it cannot be approved.", self.display_name))
        if member_state != "active":
            raise LoyaltyError(self.env._("Member %s is not active.", member.code), code="member_inactive")
        rule = self.rule_id
        if not rule.active:
            raise UserError(self.env._("The rule %s is archived.", rule.name))
        date = fields.Datetime.now().replace(microsecond=0)
        local_now = member._local_now(date)
        order = pure_rules.Order(
            amount=Decimal(str(self.amount)),
            # The rule's period and days of the week apply to the day of the purchase.
            when=datetime.combine(self.receipt_date, local_now.time()),
            store=self.store_id.id or None,
        )
        pure_rule = rule._to_pure(member)
        context = member._rule_context(rule, local_now)
        evaluation = pure_rules.evaluate([pure_rule], context, order=order)
        if evaluation.points <= 0:
            raise UserError(self._no_points_message(why_no_points(pure_rule, context, order)))
        entries = member._write_awards(evaluation, key=f"claim:{self.id}", date=date, store=self.store_id,
                                       source=self, source_ref=self.receipt_ref)
        self.with_context(klodr_claim_decide=True).write({
            "state": "approved", "points": evaluation.points,
            "reviewed_by_id": self.env.uid, "reviewed_date": date,
        })
        self.flush_recordset()
        member._recompute_tier(reason=self.env._("Claim %s", self.receipt_ref))
        self.message_post(body=self.env._("Approved: %s points.", evaluation.points))
        return entries

    def _no_points_message(self, reason):
        rule = self.rule_id
        currency = self.currency_id
        messages = {
            "period": self.env._("The receipt date %(date)s is outside the period of the rule %(rule)s.",
                                 date=self.receipt_date, rule=rule.name),
            "weekday": self.env._("The rule %s does not apply on the day of the week of the receipt.", rule.name),
            "store": self.env._("The rule %s does not apply to purchases at this store.", rule.name),
            "tier": self.env._("The rule %(rule)s is for other tiers than the member's (%(tier)s).",
                               rule=rule.name, tier=self.member_id.tier_id.name or self.env._("none")),
            "segment": self.env._("The member is not in the customer segment of the rule %s.", rule.name),
            "minimum": self.env._(
                "The receipt amount %(amount)s is below the minimum %(minimum)s of the rule %(rule)s.",
                amount=currency.format(self.amount) if currency else self.amount,
                minimum=currency.format(rule.min_amount) if currency else rule.min_amount, rule=rule.name),
            "cap": self.env._("The member already received all the points the rule %s allows for now.", rule.name),
        }
        return messages.get(reason) or self.env._("The rule %s gives no points for this receipt.", rule.name)

    def action_reject(self):
        for claim in self:
            claim._reject(claim.reject_reason)
        return True

    def _reject(self, reason):
        """Refuse the claim with a reason (told to the member); nothing is credited."""
        self.ensure_one()
        self.check_access("write")
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Enter the reason for rejecting the claim."))
        state = self._lock_state()
        if state == "rejected":
            return False
        if state != "submitted":
            raise UserError(self.env._("The claim %s was approved: it cannot be rejected.", self.display_name))
        self.with_context(klodr_claim_decide=True).write({
            "state": "rejected", "reject_reason": reason,
            "reviewed_by_id": self.env.uid, "reviewed_date": fields.Datetime.now(),
        })
        self.flush_recordset()  # the unique receipt index no longer counts this claim
        self.message_post(body=self.env._("Rejected: %s", reason))
        return True
