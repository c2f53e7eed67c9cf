from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..exceptions import InsufficientPoints, LoyaltyError


class KlodrLedgerHold(models.Model):
    """Points reserved for a redemption awaiting confirmation (OTP).

    A hold reduces the spendable balance until it is consumed by the redeem
    entry, released, or lapses at ``expires_at``; a lapsed hold stops counting
    at once, the cron only records it.
    """

    _name = "klodr.ledger.hold"
    _description = "Loyalty Points Hold"
    _order = "id desc"

    member_id = fields.Many2one("klodr.member", required=True, readonly=True, index=True, ondelete="restrict")
    program_id = fields.Many2one("klodr.program", required=True, readonly=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    points = fields.Integer(required=True, readonly=True)
    expires_at = fields.Datetime(required=True, readonly=True)
    state = fields.Selection(
        [("active", "Active"), ("consumed", "Consumed"), ("released", "Released"), ("lapsed", "Lapsed")],
        default="active", required=True, readonly=True, index=True)
    ref = fields.Char(string="Reference", readonly=True)
    store_id = fields.Many2one("klodr.store", readonly=True, ondelete="restrict")
    entry_id = fields.Many2one("klodr.ledger.entry", string="Redeem Entry", readonly=True, ondelete="restrict")

    _points_positive = models.Constraint("CHECK(points > 0)", "A hold reserves a positive number of points.")

    @api.model
    def _held_points_by_member(self, member_ids, exclude=None):
        """Points held by active, unexpired holds, by member id."""
        if not member_ids:
            return {}
        self.flush_model(["member_id", "state", "expires_at", "points"])
        self.env.cr.execute(SQL(
            """SELECT member_id, SUM(points) FROM klodr_ledger_hold
                WHERE member_id = ANY(%s) AND state = 'active' AND expires_at > %s AND id <> ALL(%s)
                GROUP BY member_id""",
            list(member_ids), fields.Datetime.now(), list(exclude.ids) if exclude else []))
        return dict(self.env.cr.fetchall())

    @api.model
    def _place(self, member, points, *, minutes=None, ref=None, store=None):
        """Reserve ``points`` of ``member``'s spendable balance, under its row lock."""
        member.ensure_one()
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            raise LoyaltyError(self.env._("A hold reserves a positive whole number of points."), field="points")
        balance, _head, state = member._lock_for_points()[member.id]
        if state != "active":
            raise LoyaltyError(self.env._("Member %s is not active.", member.code), code="member_inactive")
        spendable = balance - self._held_points_by_member(member.ids).get(member.id, 0)
        if points > spendable:
            raise InsufficientPoints(self.env._(
                "Not enough points: %(needed)s needed, %(spendable)s spendable.",
                needed=points, spendable=max(spendable, 0)), needed=points, spendable=max(spendable, 0))
        minutes = minutes or member.program_id.otp_validity_minutes
        hold = self.sudo().create({
            "member_id": member.id,
            "program_id": member.program_id.id,
            "company_id": member.company_id.id,
            "points": points,
            "expires_at": fields.Datetime.now() + timedelta(minutes=minutes),
            "ref": ref,
            "store_id": store.id if store else False,
        })
        member.invalidate_recordset(["held_points", "spendable_points"])
        return hold.with_env(self.env)

    def _consume(self, entry):
        self.ensure_one()
        if self.state != "active" or self.expires_at <= fields.Datetime.now():
            raise LoyaltyError(self.env._("The hold is no longer active."), code="redemption_not_pending")
        self.sudo().write({"state": "consumed", "entry_id": entry.id})
        self.member_id.invalidate_recordset(["held_points", "spendable_points"])

    def _release(self):
        """Give the points back to the spendable balance (cancelled redemption)."""
        self.filtered(lambda h: h.state == "active").sudo().write({"state": "released"})
        self.member_id.invalidate_recordset(["held_points", "spendable_points"])

    @api.model
    def _cron_lapse_holds(self):
        """Record holds past their expiry as lapsed (they already stopped counting)."""
        self.env.cr.execute(SQL(
            "UPDATE klodr_ledger_hold SET state = 'lapsed', write_date = %s "
            "WHERE state = 'active' AND expires_at <= %s", fields.Datetime.now(), fields.Datetime.now()))
        self.invalidate_model(["state"])

    def write(self, vals):
        if not self.env.su:
            raise UserError(self.env._("Holds are managed by redemptions."))
        return super().write(vals)
