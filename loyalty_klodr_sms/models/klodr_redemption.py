from odoo import models

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError


class KlodrRedemption(models.Model):
    _inherit = "klodr.redemption"

    def _otp_channel_available(self):
        """An SMS can carry the code: the company has a working provider and there is an OTP template."""
        company = self.company_id or self.program_id.company_id or self.env.company
        if company and company._klodr_sms_provider_ready() and self.env["sms.template"]._klodr_template("otp"):
            return True
        return super()._otp_channel_available()

    def _deliver_otp(self, code):
        """Queue the code's SMS and send it as soon as the redemption is committed.

        The code is only in that one ``sms.sms`` body: it is rendered here, never posted to a
        chatter or logged. A previous code of this redemption still waiting in the queue is voided.
        """
        self.ensure_one()
        company = self.company_id or self.program_id.company_id
        if not company._klodr_sms_provider_ready():
            return super()._deliver_otp(code)
        sms = self._klodr_queue_otp_sms(code)
        if not sms:
            raise LoyaltyError(self.env._("The OTP could not be sent by SMS (no OTP template or no mobile number)."),
                               code="otp_unavailable")
        sms._klodr_send_after_commit()
        return sms

    def _klodr_queue_otp_sms(self, code):
        """The ``sms.sms`` carrying ``code`` to the member, queued (state *In Queue*)."""
        self.ensure_one()
        previous = self.env["sms.sms"].sudo().search([
            ("klodr_redemption_id", "=", self.id), ("klodr_event", "=", "otp"), ("state", "in", ("outgoing", "error"))])
        previous._klodr_void(self.env._("Replaced by a new code."))
        minutes = self.program_id.otp_validity_minutes or 5
        return self.member_id._klodr_queue_sms(
            "otp", {"code": code, "minutes": minutes, "points": self.points, "redemption": self},
            redemption=self, expires_at=self.otp_expires_at)
