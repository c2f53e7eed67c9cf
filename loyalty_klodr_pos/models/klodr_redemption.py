from datetime import timedelta

from odoo import fields, models

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError
from odoo.addons.loyalty_klodr.tools.rewards import ORDER_REWARD_TYPES


class KlodrRedemption(models.Model):
    """At the counter a redemption is confirmed in two steps: the member's OTP *authorizes* it
    (the points stay held, the reward lines go on the order), and the order's sync *confirms*
    it (the redeem entry), exactly once, with the order that got the discount."""

    _inherit = "klodr.redemption"

    state = fields.Selection(
        selection_add=[("authorized", "Authorized (waiting for the order)"), ("confirmed",)],
        ondelete={"authorized": "set default"})
    pos_config_id = fields.Many2one("pos.config", string="Point of Sale", readonly=True, index="btree_not_null")
    pos_order_id = fields.Many2one("pos.order", string="POS Order", readonly=True, index="btree_not_null")

    def _klodr_pos_authorize(self, otp, hold_hours):
        """Check the code the member read out; when right, keep the points held for ``hold_hours``
        (the order may sync late, offline) without redeeming them yet.

        :return: None when authorized, else the refusal outcome of ``_check_otp``.
        """
        self.ensure_one()
        self.member_id._lock_for_points()
        self._lock()
        refused = self._check_otp(otp)
        if refused:
            return refused
        self.sudo().state = "authorized"
        if self.hold_id:
            self.hold_id.sudo().write({"expires_at": fields.Datetime.now() + timedelta(hours=max(hold_hours, 1))})
            self.member_id.invalidate_recordset(["held_points", "spendable_points"])
        return None

    def _klodr_pos_confirm(self, order):
        """Redeem an authorized redemption with its synced ``order``: once, whatever the retries.

        A hold that lapsed meanwhile (an order synced days later) no longer reserves the points:
        they are then redeemed from the balance, if it still has them.
        :raise LoyaltyError: when the points are no longer there.
        """
        self.ensure_one()
        self.member_id._lock_for_points()
        self._lock()
        if self.state != "authorized":
            return False
        hold = self.hold_id
        if hold and (hold.state != "active" or hold.expires_at <= fields.Datetime.now()):
            self.sudo().hold_id = False
        self.sudo().pos_order_id = order.id
        self._finalize()
        return True

    def _klodr_adds_lines(self):
        """Whether the redemption puts lines on the order (a discount or a free product)."""
        self.ensure_one()
        return not self.reward_id or self.reward_id.reward_type in ORDER_REWARD_TYPES

    def _cancel(self, reason=None):
        """An authorized redemption (order not paid) is cancelled like a pending one: the hold goes."""
        for redemption in self:
            redemption.member_id._lock_for_points()
            redemption._lock()
        authorized = self.filtered(lambda r: r.state == "authorized")
        for redemption in authorized:
            redemption._close("cancelled", reason or "cancelled")
        others = self - authorized
        if others:
            super(KlodrRedemption, others)._cancel(reason)
        return self

    def _check_cancel_from_pos(self):
        """A cashier may only take back what no paid order used: pending or authorized redemptions,
        or confirmed ones (programs without OTP) whose order never reached the server."""
        self.ensure_one()
        if self.state in ("pending_otp", "authorized"):
            return
        paid = self.env["pos.order"].sudo().search_count([
            ("uuid", "=", (self.order_ref or "").removeprefix("pos:")), ("state", "in", ("paid", "done"))], limit=1)
        if self.state != "confirmed" or paid or self.pos_order_id:
            raise LoyaltyError(self.env._("Redemption %s is used by an order: refund the order instead.", self.name),
                               code="redemption_not_pending")
