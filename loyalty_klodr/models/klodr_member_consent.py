from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request

# The member's consent fields and the purpose each records (DPDP Act 2023: consent is
# given for a specified purpose, and its withdrawal is as easy as its giving).
CONSENT_FIELDS = {
    "consent_membership": "membership",
    "consent_sms_promo": "sms_promo",
}
PURPOSES = [
    ("membership", "Programme Membership"),
    ("sms_promo", "Promotional SMS"),
]
CHANNELS = [
    ("backend", "Staff (backend)"),
    ("pos", "Point of Sale"),
    ("portal", "Member Portal"),
    ("api", "API"),
    ("sms", "SMS"),
    ("paper", "Paper Form"),
    ("erasure", "Erasure of Personal Data"),
]
CONTEXT_CHANNEL = "klodr_consent_channel"


class KlodrMemberConsent(models.Model):
    """One giving or withdrawal of a member's consent for a purpose: when, how and by whom.

    The member's ``consent_*`` fields say where consent stands; this log is the proof of how it
    got there. Rows are written by the member's create and write and are never changed.
    """

    _name = "klodr.member.consent"
    _description = "Loyalty Member Consent"
    _order = "date desc, id desc"
    _rec_name = "purpose"

    member_id = fields.Many2one("klodr.member", required=True, readonly=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="member_id.company_id", store=True, index=True)
    purpose = fields.Selection(PURPOSES, required=True, readonly=True)
    granted = fields.Boolean(readonly=True, help="Given (checked) or withdrawn.")
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    channel = fields.Selection(CHANNELS, required=True, readonly=True, default="backend")
    user_id = fields.Many2one("res.users", string="Recorded By", readonly=True, default=lambda self: self.env.user)

    @api.model
    def _current_channel(self):
        """The channel of the current change: the context's, else guessed from the request."""
        channel = self.env.context.get(CONTEXT_CHANNEL)
        if channel:
            return channel
        path = request.httprequest.path if request else ""
        if path.startswith("/api/"):
            return "api"
        if path.startswith("/my/"):
            return "portal"
        return "backend"

    @api.model
    def _log(self, members, fnames):
        """Record the current value of the consent fields ``fnames`` of ``members``."""
        channel = self._current_channel()
        rows = [{"member_id": member.id, "purpose": CONSENT_FIELDS[fname], "granted": bool(member[fname]),
                 "date": member[f"{fname}_date"] or fields.Datetime.now(), "channel": channel}
                for member in members for fname in fnames]
        return self.sudo().create(rows) if rows else self.browse()

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("A record of consent is never changed: record a new one."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("A record of consent is never deleted."))
