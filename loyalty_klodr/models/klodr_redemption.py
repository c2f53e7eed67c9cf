from datetime import timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import SQL

from ..exceptions import LoyaltyError
from ..tools import otp as pure_otp
from ..tools import rewards as pure_rewards
from ..tools.rules import to_decimal

STATES = [
    ("pending_otp", "Waiting for OTP"),
    ("confirmed", "Confirmed"),
    ("cancelled", "Cancelled"),
    ("expired", "Expired"),
    ("reversed", "Reversed"),
]


class KlodrRedemption(models.Model):
    """Points spent on a reward or on money off an order, confirmed by the member's OTP.

    Starting it checks every refusal of API.md and, when the program requires an
    OTP, holds the points (no other store can spend them) and sends a code bound
    to this redemption. Confirming writes the ``redeem`` entry and consumes the
    hold in one transaction; cancelling releases the hold or, once confirmed,
    writes a ``reversal``.
    """

    _name = "klodr.redemption"
    _description = "Loyalty Redemption"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    program_id = fields.Many2one("klodr.program", required=True, readonly=True, index=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    member_id = fields.Many2one("klodr.member", required=True, readonly=True, index=True, ondelete="restrict")
    reward_id = fields.Many2one("klodr.reward", readonly=True, ondelete="restrict")
    issue_id = fields.Many2one("klodr.reward.issue", string="Reward Issued", readonly=True)
    points = fields.Integer(required=True, readonly=True)
    order_ref = fields.Char(string="Order Reference", readonly=True, index="btree_not_null")
    order_amount = fields.Monetary(readonly=True, currency_field="currency_id")
    discount_amount = fields.Monetary(readonly=True, currency_field="currency_id")
    store_id = fields.Many2one("klodr.store", readonly=True, ondelete="restrict")
    state = fields.Selection(STATES, required=True, readonly=True, default="pending_otp", tracking=True, index=True)
    state_reason = fields.Char(readonly=True)
    hold_id = fields.Many2one("klodr.ledger.hold", readonly=True)
    redeem_entry_id = fields.Many2one("klodr.ledger.entry", readonly=True)
    reversal_entry_id = fields.Many2one("klodr.ledger.entry", readonly=True)
    confirmed_at = fields.Datetime(readonly=True)
    points_returned = fields.Integer(readonly=True, copy=False,
                                     help="Points of this redemption already given back by refunds of its order.")
    # The code itself is never stored: only its HMAC, bound to this redemption.
    otp_digest = fields.Char(readonly=True, copy=False, groups="base.group_system")
    otp_expires_at = fields.Datetime(readonly=True, copy=False)
    otp_attempts = fields.Integer(readonly=True, copy=False)
    otp_sends = fields.Integer(readonly=True, copy=False)
    otp_last_sent_at = fields.Datetime(readonly=True, copy=False)

    _points_positive = models.Constraint("CHECK(points > 0)", "A redemption spends a positive number of points.")

    # ------------------------------------------------------------------
    # Start
    # ------------------------------------------------------------------
    @api.model
    def _start(self, member, *, reward=None, points=None, order_ref=None, order_amount=None, store=None):
        """Open a redemption for ``member``: of ``reward``, or of ``points`` as money off the order.

        :raise LoyaltyError: with the API code of the refusal (``insufficient_points``,
            ``below_minimum_redemption``, ``exceeds_max_redemption``, ``tier_restricted``,
            ``out_of_stock``, ``reward_unavailable``, ``member_inactive``, ``rate_limited``,
            ``otp_unavailable``, ``validation_error``).
        """
        member.ensure_one()
        program = member.program_id
        if bool(reward) == bool(points):
            raise LoyaltyError(self.env._("Give either a reward or a number of points."), field="reward_id")
        if points is not None and (isinstance(points, bool) or not isinstance(points, int) or points <= 0):
            raise LoyaltyError(self.env._("Points are a positive whole number."), field="points")
        if order_ref is not None and (not isinstance(order_ref, str) or not order_ref.strip()
                                      or len(order_ref) > 128):
            raise LoyaltyError(self.env._("The order reference is a text of at most 128 characters."),
                               field="order_ref")
        if order_amount is not None:
            try:
                order_amount = to_decimal(order_amount)
            except (ValueError, ArithmeticError) as exc:
                raise LoyaltyError(self.env._("The order amount must be a number."), field="order_amount") from exc
            if order_amount < 0 or order_amount > Decimal(10**9):
                raise LoyaltyError(self.env._("The order amount is out of range."), field="order_amount")
        if reward and (reward.program_id != program):
            raise LoyaltyError(self.env._("Unknown reward."), code="reward_unavailable")

        balance, _head, state = member._lock_for_points()[member.id]
        if state != "active":
            raise LoyaltyError(self.env._("Member %s is not active.", member.code), code="member_inactive")
        rounding = Decimal(str(program.currency_id.rounding or 0.01))
        if reward:
            refusal = reward._refusal_for(member, order_amount=order_amount)
            if refusal:
                raise LoyaltyError(reward._refusal_message(refusal), code=refusal.code, **refusal.details)
            points = reward.points_cost
            if order_amount is not None:
                discount = reward._discount_amount(order_amount)
            else:
                discount = float(pure_rewards.reward_value(
                    reward._to_pure(ranks={}), Decimal(str(program.point_value)), currency_rounding=rounding))
        else:
            spendable = balance - self.env["klodr.ledger.hold"]._held_points_by_member(member.ids).get(member.id, 0)
            self._check_points_refusals(program, balance, spendable, points)
            discount = pure_rewards.amount_for_points(points, Decimal(str(program.point_value)), rounding)
            if order_amount is not None and discount > pure_rewards.max_redeemable_amount(
                    order_amount, Decimal(str(program.max_redeem_share)), rounding):
                raise LoyaltyError(self.env._(
                    "At most %(share)s%% of the order can be paid with points.", share=program.max_redeem_share),
                    code="exceeds_max_redemption",
                    max_points=pure_rewards.points_for_amount(pure_rewards.max_redeemable_amount(
                        order_amount, Decimal(str(program.max_redeem_share)), rounding),
                        Decimal(str(program.point_value))) if program.point_value else 0)
            discount = float(discount)
        redemption = self.sudo().create({
            "name": self.env["ir.sequence"].sudo().next_by_code("klodr.redemption") or "/",
            "program_id": program.id,
            "company_id": program.company_id.id,
            "member_id": member.id,
            "reward_id": reward.id if reward else False,
            "points": points,
            "order_ref": order_ref and order_ref.strip(),
            "order_amount": float(order_amount) if order_amount is not None else 0.0,
            "discount_amount": discount,
            "store_id": store.id if store else False,
            "state": "pending_otp",
        }).with_env(self.env)
        if program.otp_required:
            if not redemption._otp_channel_available():
                raise LoyaltyError(self.env._(
                    "This program requires an OTP, but no channel (SMS) can deliver it: "
                    "install and configure Klodr Loyalty SMS."), code="otp_unavailable")
            hold = self.env["klodr.ledger.hold"]._place(
                member, points, minutes=program.otp_validity_minutes, ref=redemption.name, store=store)
            redemption.sudo().hold_id = hold
            redemption._send_new_otp()
        else:
            redemption._finalize()
        return redemption

    @api.model
    def _check_points_refusals(self, program, balance, spendable, points):
        if balance < 0:
            raise LoyaltyError(self.env._("The balance is negative: it must be positive again to redeem."),
                               code="insufficient_points", balance=balance)
        if spendable < program.min_redeem_balance:
            raise LoyaltyError(self.env._(
                "At least %(minimum)s points are needed to redeem (%(spendable)s spendable).",
                minimum=program.min_redeem_balance, spendable=spendable),
                code="below_minimum_redemption", minimum=program.min_redeem_balance, spendable=spendable)
        if points > spendable:
            raise LoyaltyError(self.env._(
                "Not enough points: %(needed)s needed, %(spendable)s spendable.", needed=points, spendable=spendable),
                code="insufficient_points", needed=points, spendable=spendable)

    # ------------------------------------------------------------------
    # OTP
    # ------------------------------------------------------------------
    def _otp_channel_available(self):
        """Whether a channel addon can deliver codes (the base addon has none)."""
        return False

    def _deliver_otp(self, code):
        """Send ``code`` to the member: implemented by the channel addons."""
        raise LoyaltyError(self.env._("No channel can deliver the OTP."), code="otp_unavailable")

    def _generate_otp(self):
        """A fresh code (tests and POS tours patch this to know it)."""
        return pure_otp.generate_code(6)

    def _otp_policy(self):
        program = self.program_id
        return pure_otp.Policy(
            validity=timedelta(minutes=program.otp_validity_minutes),
            max_attempts=program.otp_max_attempts,
            resend_interval=timedelta(seconds=program.otp_resend_seconds),
            max_sends=program.otp_max_sends,
        )

    def _otp_binding(self):
        return pure_otp.binding(self.id, self.member_id.id, self.points, f"{self.discount_amount:.2f}",
                                self.store_id.id, self.order_ref)

    @api.model
    def _otp_secret(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.secret")

    def _check_send_throttles(self, now):
        """Per member and per phone: at most N codes an hour (program settings), whatever the redemption."""
        program = self.program_id
        window = timedelta(hours=1)
        log = self.env["klodr.otp.send"].sudo()
        since = now - window
        for domain, limit in (([("member_id", "=", self.member_id.id)], program.otp_max_per_member_hour),
                              ([("mobile", "=", self.member_id.mobile)], program.otp_max_per_phone_hour)):
            sent = log.search(domain + [("sent_at", ">", since)]).mapped("sent_at")
            wait = pure_otp.window_wait(sent, now, limit, window)
            if wait:
                raise LoyaltyError(self.env._("Too many codes sent: try again in %s seconds.", wait),
                                   code="rate_limited", retry_after=wait)

    def _send_new_otp(self):
        """Replace the code with a new one, extend the hold with it, and deliver it."""
        self.ensure_one()
        now = fields.Datetime.now()
        self._check_send_throttles(now)
        code = self._generate_otp()
        expires_at = now + self._otp_policy().validity
        self.sudo().write({
            "otp_digest": pure_otp.digest(self._otp_secret(), code, self._otp_binding()),
            "otp_expires_at": expires_at,
            "otp_attempts": 0,
            "otp_sends": self.otp_sends + 1,
            "otp_last_sent_at": now,
        })
        self.hold_id.sudo().write({"expires_at": expires_at})
        self.env["klodr.otp.send"].sudo().create({
            "redemption_id": self.id, "member_id": self.member_id.id, "mobile": self.member_id.mobile,
            "sent_at": now})
        self._deliver_otp(code)

    def _lock(self):
        self.env.cr.execute(SQL("SELECT id FROM klodr_redemption WHERE id = %s FOR UPDATE", self.id))
        self.invalidate_recordset()

    def _outcome(self, status, code=None, **details):
        return dict(details, status=status, **({"error": code} if code else {}))

    def _confirm(self, otp):
        """Check the code typed at the counter and, when right, redeem.

        Wrong, expired and locked codes are *returned* (``{"status": ..., "error": code}``), not
        raised, so that the attempt they count is committed with the answer.
        :raise LoyaltyError: when the redemption itself cannot complete (points spent meanwhile...).
        """
        self.ensure_one()
        self.member_id._lock_for_points()
        self._lock()
        refused = self._check_otp(otp)
        if refused:
            return refused
        self._finalize()
        return self._outcome("confirmed", points_redeemed=self.points, discount_amount=self.discount_amount,
                             balance=self.member_id.balance)

    def _check_otp(self, otp):
        """Check ``otp`` against this pending redemption, whose member and row the caller locked.

        :return: None when the code is right (it is then used up: it can never serve again), else
            the outcome to answer (``otp_invalid``, ``otp_expired``, ``otp_locked``,
            ``redemption_not_pending``); the wrong attempt is counted in the caller's transaction.
        """
        if self.state != "pending_otp":
            return self._outcome(self.state, "redemption_not_pending")
        policy = self._otp_policy()
        now = fields.Datetime.now()
        if pure_otp.is_expired(self.otp_expires_at, now):
            self._close("expired", "otp_expired")
            return self._outcome("expired", "otp_expired")
        if not pure_otp.matches(self._otp_secret(), otp, self._otp_binding(), self.sudo().otp_digest):
            attempts = self.otp_attempts + 1
            self.sudo().otp_attempts = attempts
            if attempts >= policy.max_attempts:
                self._close("cancelled", "otp_locked")
                return self._outcome("cancelled", "otp_locked", attempts_left=0)
            return self._outcome("pending_otp", "otp_invalid", attempts_left=policy.max_attempts - attempts)
        self.sudo().otp_digest = False  # a used code can never be used again
        return None

    def _resend(self):
        """A new code (the old one is void), within the resend throttles."""
        self.ensure_one()
        self.member_id._lock_for_points()
        self._lock()
        now = fields.Datetime.now()
        if self.state != "pending_otp" or pure_otp.is_expired(self.otp_expires_at, now):
            raise LoyaltyError(self.env._("The redemption is not waiting for a code."), code="redemption_not_pending")
        wait = pure_otp.resend_wait(self._otp_policy(), self.otp_sends, self.otp_last_sent_at, now)
        if wait is None:
            raise LoyaltyError(self.env._("No more codes can be sent for this redemption."), code="rate_limited",
                               retry_after=int(self._otp_policy().validity.total_seconds()))
        if wait:
            raise LoyaltyError(self.env._("Wait %s seconds before asking for a new code.", wait),
                               code="rate_limited", retry_after=wait)
        self._send_new_otp()
        return self

    # ------------------------------------------------------------------
    # Outcomes
    # ------------------------------------------------------------------
    def _finalize(self):
        """Write the redeem entry (consuming the hold) and issue the reward, in one transaction."""
        self.ensure_one()
        ledger = self.env["klodr.ledger.entry"]
        entry = ledger._post(self.member_id, "redeem", -self.points, idempotency_key=f"redemption:{self.id}",
                             store=self.store_id, source=self, source_ref=self.order_ref or self.name,
                             hold=self.hold_id or None,
                             description=self.reward_id.name or self.env._("Points redeemed"))
        values = {"state": "confirmed", "redeem_entry_id": entry.id, "confirmed_at": fields.Datetime.now()}
        if self.reward_id:
            values["issue_id"] = self.env["klodr.reward.issue"]._issue(
                self.reward_id, self.member_id, source_ref=self.name, points=self.points,
                value=self.discount_amount).id
        self.sudo().write(values)
        self.member_id._klodr_notify("redeemed", points=self.points, redemption=self)

    def _close(self, state, reason):
        self.hold_id._release()
        self.sudo().write({"state": state, "state_reason": reason, "otp_digest": False})

    def _cancel(self, reason=None):
        """Pending: release the hold. Confirmed: give the points back with a ``reversal`` entry."""
        self.ensure_one()
        self.member_id._lock_for_points()
        self._lock()
        if self.state == "pending_otp":
            self._close("cancelled", reason or "cancelled")
        elif self.state == "confirmed":
            # what refunds of the order already gave back is not given back twice
            left = self.points - self.points_returned
            entry = self.env["klodr.ledger.entry"]
            if left > 0:
                entry = entry._post(
                    self.member_id, "reversal", left, idempotency_key=f"redemption:{self.id}:reversal",
                    store=self.store_id, source=self, source_ref=self.order_ref or self.name,
                    description=reason or self.env._("Redemption %s cancelled", self.name))
            if self.issue_id:
                self.issue_id._cancel()
            self.sudo().write({"state": "reversed", "reversal_entry_id": entry.id, "state_reason": reason})
        else:
            raise LoyaltyError(self.env._("Redemption %(name)s is %(state)s: nothing to cancel.",
                                          name=self.name, state=self.state), code="redemption_not_pending")
        return self

    @api.model
    def _cron_expire(self):
        """Record pending redemptions whose code expired (their holds already stopped counting)."""
        for redemption in self.sudo().search([("state", "=", "pending_otp"),
                                              ("otp_expires_at", "<=", fields.Datetime.now())], limit=5000):
            redemption._close("expired", "otp_expired")


class KlodrOtpSend(models.Model):
    """When a code went to whom: the per-member and per-phone throttles count these."""

    _name = "klodr.otp.send"
    _description = "Loyalty OTP Sent"
    _order = "sent_at desc"
    _log_access = False

    redemption_id = fields.Many2one("klodr.redemption", required=True, ondelete="cascade", index=True)
    member_id = fields.Many2one("klodr.member", required=True, ondelete="cascade", index=True)
    mobile = fields.Char(required=True, index=True)
    sent_at = fields.Datetime(required=True, index=True)
