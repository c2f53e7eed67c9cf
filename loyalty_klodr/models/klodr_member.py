import secrets

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

from ..tools.phone import InvalidPhoneNumber, normalize_mobile

# Referral codes avoid letters and digits that read alike (0/O, 1/I/L).
_REFERRAL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# Written only by the ledger, in SQL, under the member's row lock.
_LEDGER_FIELDS = frozenset({"balance", "chain_head", "points_version"})


class KlodrMember(models.Model):
    _name = "klodr.member"
    _description = "Loyalty Member"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_names_search = ["name", "code", "mobile"]

    name = fields.Char(required=True, tracking=True)
    partner_id = fields.Many2one("res.partner", index="btree_not_null", ondelete="set null", tracking=True)
    program_id = fields.Many2one("klodr.program", required=True, index=True, ondelete="restrict")
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    mobile = fields.Char(required=True, tracking=True, help="Stored in E.164 (+919845012345).")
    email = fields.Char()
    code = fields.Char(string="Member Code", required=True, copy=False, readonly=True,
                       default=lambda self: self.env["ir.sequence"].next_by_code("klodr.member") or "/")
    referral_code = fields.Char(copy=False, readonly=True,
                                default=lambda self: self._generate_referral_code())
    store_id = fields.Many2one("klodr.store", string="Enrolled At", ondelete="restrict")
    birthday = fields.Date()
    anniversary = fields.Date()
    state = fields.Selection(
        [("active", "Active"), ("blocked", "Blocked"), ("erased", "Erased")],
        default="active", required=True, tracking=True,
    )
    balance = fields.Integer(readonly=True, default=0, copy=False, aggregator="sum")
    chain_head = fields.Char(readonly=True, copy=False, groups="base.group_system")
    points_version = fields.Integer(readonly=True, copy=False, default=0,
                                    help="Bumped by every change of points or holds (optimistic concurrency).")
    held_points = fields.Integer(compute="_compute_held_points")
    spendable_points = fields.Integer(compute="_compute_held_points")
    consent_membership = fields.Boolean(string="Consent: Programme Membership", default=True)
    consent_membership_date = fields.Datetime(default=fields.Datetime.now)
    consent_sms_promo = fields.Boolean(string="Consent: Promotional SMS")
    consent_sms_promo_date = fields.Datetime()
    entry_ids = fields.One2many("klodr.ledger.entry", "member_id", string="Ledger")
    hold_ids = fields.One2many("klodr.ledger.hold", "member_id", string="Holds")
    lot_ids = fields.One2many("klodr.ledger.lot", "member_id", string="Open Lots",
                              domain=[("remaining", ">", 0)])

    _mobile_unique = models.Constraint(
        "UNIQUE(program_id, mobile)", "This mobile number is already a member of the program.")
    _code_unique = models.Constraint(
        "UNIQUE(program_id, code)", "The member code is already used in this program.")
    _referral_unique = models.Constraint(
        "UNIQUE(program_id, referral_code)", "The referral code is already used in this program.")

    @api.model
    def _generate_referral_code(self):
        return "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(8))

    @api.model
    def _normalize_mobile(self, raw, program=None):
        company = program.company_id if program else self.env.company
        try:
            return normalize_mobile(raw, company.country_id.code or company.partner_id.country_id.code)
        except InvalidPhoneNumber as exc:
            raise ValidationError(self.env._("Invalid mobile number: %s", exc)) from exc

    @api.model
    def _find_by_mobile_or_code(self, program, text):
        """The member of ``program`` known by this mobile number or member code."""
        text = (text or "").strip()
        if not text:
            return self.browse()
        domain = Domain("program_id", "=", program.id) & Domain("code", "=", text)
        try:
            domain |= (Domain("program_id", "=", program.id)
                       & Domain("mobile", "=", normalize_mobile(text, program.company_id.country_id.code)))
        except InvalidPhoneNumber:
            pass
        return self.search(domain, limit=1)

    @api.model
    def _search_display_name(self, operator, value):
        """A cashier types the mobile number as the member says it: match its E.164 form too."""
        domain = super()._search_display_name(operator, value)
        if operator in ("ilike", "=", "=ilike") and isinstance(value, str):
            try:
                domain |= Domain("mobile", "=", normalize_mobile(value, self.env.company.country_id.code))
            except InvalidPhoneNumber:
                pass
        return domain

    @api.model_create_multi
    def create(self, vals_list):
        programs = self.env["klodr.program"]
        for vals in vals_list:
            if _LEDGER_FIELDS & vals.keys():
                raise UserError(self.env._("Balances change only through ledger entries."))
            program = programs.browse(vals.get("program_id"))
            if vals.get("mobile"):
                vals["mobile"] = self._normalize_mobile(vals["mobile"], program)
            for consent in ("consent_sms_promo",):
                if vals.get(consent) and not vals.get(f"{consent}_date"):
                    vals[f"{consent}_date"] = fields.Datetime.now()
        return super().create(vals_list)

    def write(self, vals):
        if _LEDGER_FIELDS & vals.keys():
            raise UserError(self.env._("Balances change only through ledger entries."))
        if "program_id" in vals and any(m.program_id.id != vals["program_id"] for m in self):
            if self.env["klodr.ledger.entry"].sudo().search_count([("member_id", "in", self.ids)], limit=1):
                raise UserError(self.env._("A member with ledger entries cannot change program."))
        if vals.get("mobile"):
            programs = self.mapped("program_id")
            if len(programs) > 1:
                raise UserError(self.env._("Change mobile numbers one member at a time."))
            vals["mobile"] = self._normalize_mobile(vals["mobile"], programs)
        for consent in ("consent_membership", "consent_sms_promo"):
            if consent in vals:
                vals.setdefault(f"{consent}_date", fields.Datetime.now())
        return super().write(vals)

    def unlink(self):
        if self.env["klodr.ledger.entry"].sudo().search_count([("member_id", "in", self.ids)], limit=1):
            raise UserError(self.env._(
                "Members with ledger entries are never deleted: block them, or erase their "
                "personal data."))
        return super().unlink()

    @api.depends("hold_ids.state", "hold_ids.expires_at", "balance")
    def _compute_held_points(self):
        held = self.env["klodr.ledger.hold"]._held_points_by_member(self.ids)
        for member in self:
            member.held_points = held.get(member.id, 0)
            member.spendable_points = member.balance - member.held_points

    def _lock_for_points(self):
        """Lock the member rows and return their fresh ledger state by id.

        The rows are written, not only locked: every change of points or holds
        bumps ``points_version``, so under Odoo's REPEATABLE READ a concurrent
        transaction that touches the same member after ours began fails with a
        serialization error (and is retried by HTTP or cron) instead of acting
        on a stale snapshot of the member's entries and holds.
        """
        if not self.ids:
            return {}
        ids = sorted(self.ids)
        if len(ids) > 1:  # one lock order for every caller: no deadlock between batches
            self.env.cr.execute("SELECT id FROM klodr_member WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids])
        self.env.cr.execute(
            "UPDATE klodr_member SET points_version = points_version + 1 WHERE id = ANY(%s) "
            "RETURNING id, balance, chain_head, state", [ids])
        state = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        self.invalidate_recordset(["points_version"])
        return state

    def action_open_ledger(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_ledger_entry_action")
        action["domain"] = [("member_id", "=", self.id)]
        action["context"] = {"search_default_member_id": self.id}
        return action

    def action_adjust(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "klodr.adjust.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_member_id": self.id},
        }
