from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..exceptions import LoyaltyError
from ..tools import codes as pure_codes

CODE_STATES = [("available", "Available"), ("used", "Used"), ("expired", "Expired")]
# Set only by _redeem_code (and by voiding a batch): who used a code, when, for what.
_REDEMPTION_FIELDS = frozenset({"state", "member_id", "used_date", "store_id", "entry_id", "issue_id"})


class KlodrCode(models.Model):
    """One single-use promotional code of a batch."""

    _name = "klodr.code"
    _description = "Loyalty Promotional Code"
    _order = "batch_id desc, id"
    _rec_name = "code"

    batch_id = fields.Many2one("klodr.code.batch", required=True, index=True, ondelete="cascade", readonly=True)
    # Not indexed on their own: the unique (program_id, code) index serves look-ups, and fewer
    # indexes keep generating 100,000 codes quick.
    program_id = fields.Many2one(related="batch_id.program_id", store=True)
    company_id = fields.Many2one(related="batch_id.company_id", store=True)
    code = fields.Char(required=True, readonly=True)
    state = fields.Selection(CODE_STATES, default="available", required=True, readonly=True)
    member_id = fields.Many2one("klodr.member", string="Redeemed By", readonly=True, index="btree_not_null",
                                ondelete="restrict")
    used_date = fields.Datetime(string="Redeemed On", readonly=True)
    store_id = fields.Many2one("klodr.store", string="Redeemed At", readonly=True, ondelete="restrict")
    entry_id = fields.Many2one("klodr.ledger.entry", string="Ledger Entry", readonly=True, ondelete="restrict")
    issue_id = fields.Many2one("klodr.reward.issue", string="Reward Issued", readonly=True, ondelete="restrict")
    kind = fields.Selection(related="batch_id.kind")
    date_to = fields.Date(related="batch_id.date_to", string="Valid Until")

    _code_unique = models.Constraint("UNIQUE(program_id, code)", "This code already exists in the program.")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("state", "available") != "available" or any(
                    vals.get(f) for f in _REDEMPTION_FIELDS - {"state"}):
                raise UserError(self.env._("A code is redeemed through the program, not created redeemed."))
            vals["code"] = pure_codes.normalize_code(vals.get("code"))
            if not vals["code"]:
                raise UserError(self.env._("A code cannot be empty."))
        return super().create(vals_list)

    def write(self, vals):
        if ({"code", "batch_id"} | _REDEMPTION_FIELDS) & vals.keys() and not self.env.su:
            raise UserError(self.env._("Codes change only when they are redeemed or their batch is voided."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        if self.filtered(lambda c: c.state == "used"):
            raise UserError(self.env._("A redeemed code cannot be deleted."))

    # ------------------------------------------------------------------
    # Redemption
    # ------------------------------------------------------------------
    @api.model
    def _redeem_code(self, program, member, code_text, store=None):
        """Give ``member`` what the code ``code_text`` of ``program`` gives, exactly once.

        The text is read as people type it (any case, spaces and dashes). A refused
        redemption changes nothing: the code stays available.

        :return: the ``klodr.code`` record, redeemed (its ``entry_id`` or ``issue_id`` says
            what it gave).
        :raise LoyaltyError: ``code_invalid`` (unknown in the program), ``code_used``,
            ``code_expired`` (past its batch's validity, batch archived or voided),
            ``member_inactive``; a reward's own refusals (``tier_restricted``, ``out_of_stock``...).
        """
        program.ensure_one()
        member.ensure_one()
        text = pure_codes.normalize_code(code_text)
        if member.sudo().program_id != program:
            raise LoyaltyError(self.env._("The member does not belong to the program %s.", program.name),
                               field="member")
        code = self.sudo().search([("program_id", "=", program.id), ("code", "=", text)], limit=1) if text \
            else self.sudo()
        if not code:
            raise LoyaltyError(self.env._("Unknown code %s.", code_text), code="code_invalid")
        with self.env.cr.savepoint():
            # The member first, then the code: every redemption takes its locks in this order.
            member_state = member._lock_for_points()[member.id][2]
            if member_state != "active":
                raise LoyaltyError(self.env._("Member %s is not active.", member.code), code="member_inactive")
            code._check_redeemable()
            self.env.cr.execute(SQL(
                """UPDATE klodr_code SET state = 'used', member_id = %s, used_date = now() AT TIME ZONE 'UTC',
                                         store_id = %s, write_uid = %s, write_date = now() AT TIME ZONE 'UTC'
                    WHERE id = %s AND state = 'available' RETURNING id""",
                member.id, store.id if store else None, self.env.uid, code.id))
            won = self.env.cr.fetchone()
            code.invalidate_recordset()
            if not won:
                raise LoyaltyError(self.env._("The code %s was already used.", code.code), code="code_used")
            batch = code.batch_id.with_context(active_test=False)
            if batch.kind == "points":
                entry = self.env["klodr.ledger.entry"]._post(
                    member, "bonus", batch.points, idempotency_key=f"code:{code.id}", source=code,
                    source_ref=code.code, store=store, description=batch.name)
                self.env.cr.execute(SQL("UPDATE klodr_code SET entry_id = %s WHERE id = %s", entry.id, code.id))
                member._recompute_tier(reason=self.env._("Code %s", code.code))
            else:
                issue = self.env["klodr.reward.issue"]._issue(batch.reward_id, member, source_ref=code.code, points=0)
                self.env.cr.execute(SQL("UPDATE klodr_code SET issue_id = %s WHERE id = %s", issue.id, code.id))
            code.invalidate_recordset(["entry_id", "issue_id"])
        return code.with_env(self.env)

    def _check_redeemable(self):
        """Refuse a code that is used, voided, or whose batch no longer accepts codes."""
        self.ensure_one()
        batch = self.batch_id.with_context(active_test=False)
        if self.state == "used":
            raise LoyaltyError(self.env._("The code %s was already used.", self.code), code="code_used")
        if self.state == "expired" or batch._refuses_codes():
            raise LoyaltyError(self.env._("The code %s has expired.", self.code), code="code_expired",
                               valid_until=fields.Date.to_string(batch.date_to) if batch.date_to else None)
