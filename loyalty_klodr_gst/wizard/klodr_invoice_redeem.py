from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError
from odoo.addons.loyalty_klodr.tools import rewards as pure_rewards


class KlodrInvoiceRedeem(models.TransientModel):
    """Redeem a member's points on a customer invoice, with the OTP when the program asks for it.

    Reuses the redemption of the ledger (``klodr.redemption._start`` / ``_confirm``): the same
    refusals, holds and OTP rules as at the counter and through the API.
    """

    _name = "klodr.invoice.redeem"
    _description = "Redeem Loyalty Points on an Invoice"

    move_id = fields.Many2one("account.move", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="move_id.company_id")
    currency_id = fields.Many2one(related="move_id.currency_id")
    member_id = fields.Many2one("klodr.member", compute="_compute_member", store=True, readonly=True)
    program_id = fields.Many2one(related="member_id.program_id")
    spendable_points = fields.Integer(related="member_id.spendable_points")
    points = fields.Integer(required=True, default=0)
    amount = fields.Monetary(string="Worth", compute="_compute_amount", currency_field="currency_id")
    mode = fields.Selection([("discount", "Discount lines before tax"), ("payment", "Credit (payment)")],
                            compute="_compute_mode")
    state = fields.Selection([("points", "Points"), ("otp", "Code")], default="points", required=True)
    redemption_id = fields.Many2one("klodr.redemption", readonly=True)
    otp = fields.Char(string="Code from the member's SMS")
    message = fields.Char(readonly=True)

    @api.depends("move_id")
    def _compute_member(self):
        for wizard in self:
            wizard.member_id = wizard.move_id.klodr_member_id

    @api.depends("move_id")
    def _compute_mode(self):
        for wizard in self:
            wizard.mode = "payment" if wizard.move_id.company_id.klodr_redemption_as_payment else "discount"

    @api.depends("points", "program_id")
    def _compute_amount(self):
        for wizard in self:
            program = wizard.program_id
            wizard.amount = float(pure_rewards.amount_for_points(
                max(wizard.points, 0), Decimal(str(program.point_value)),
                Decimal(str(program.currency_id.rounding or 0.01)))) if program else 0.0

    def _reopen(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new", "name": self.env._("Redeem Loyalty Points")}

    def _done(self):
        self.move_id._klodr_apply_redemption(self.redemption_id)
        return {"type": "ir.actions.act_window_close"}

    def action_redeem(self):
        self.ensure_one()
        move = self.move_id
        if not move.klodr_can_redeem or not self.member_id:
            raise UserError(self.env._("Points can be redeemed on a draft customer invoice of a loyalty member."))
        try:
            redemption = self.env["klodr.redemption"].sudo()._start(
                self.member_id.sudo(), points=self.points, order_ref=move._klodr_order_ref(),
                order_amount=move._klodr_redeemable_base())
        except LoyaltyError as exc:
            raise UserError(str(exc)) from exc
        self.redemption_id = redemption
        if redemption.state == "confirmed":
            return self._done()
        self.write({"state": "otp", "message": self.env._("A code was sent to %s.", self.member_id.mobile)})
        return self._reopen()

    def action_confirm(self):
        """Check the code. A wrong code is answered in the wizard (not raised), so its attempt counts."""
        self.ensure_one()
        if not self.redemption_id:
            raise UserError(self.env._("Start the redemption first."))
        outcome = self.redemption_id.sudo()._confirm((self.otp or "").strip())
        if outcome["status"] == "confirmed":
            return self._done()
        messages = {
            "otp_invalid": self.env._("Wrong code: %s attempt(s) left.", outcome.get("attempts_left")),
            "otp_locked": self.env._("Too many wrong codes: the redemption is cancelled."),
            "otp_expired": self.env._("The code expired: start again."),
        }
        self.write({"otp": False, "message": messages.get(outcome.get("error"), outcome.get("error"))})
        return self._reopen()

    def action_resend(self):
        self.ensure_one()
        try:
            self.redemption_id.sudo()._resend()
        except LoyaltyError as exc:
            raise UserError(str(exc)) from exc
        self.message = self.env._("A new code was sent to %s.", self.member_id.mobile)
        return self._reopen()

    def action_cancel(self):
        if self.redemption_id.state == "pending_otp":
            self.redemption_id.sudo()._cancel(self.env._("Cancelled at the invoice"))
        return {"type": "ir.actions.act_window_close"}
