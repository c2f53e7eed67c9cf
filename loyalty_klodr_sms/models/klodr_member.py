import logging

import psycopg2

from odoo import api, fields, models
from odoo.tools import format_date

from odoo.addons.base.models.res_partner import _lang_get

from ..tools import window

_logger = logging.getLogger(__name__)

# Events whose SMS can wait for the 10:00-21:00 window although they are service messages.
WINDOWED_SERVICE_EVENTS = frozenset({"expiry"})


class KlodrMember(models.Model):
    _inherit = "klodr.member"

    sms_lang = fields.Selection(
        _lang_get, string="SMS Language",
        help="Language of the SMS sent to the member. Empty: the contact's language, else the company's.")

    def _klodr_notify(self, event, **values):
        """Queue the member's SMS for ``event`` (see the base method), as the program allows.

        Never breaks what notified: a template that fails to render is logged and skipped.
        :return: the ``sms.sms`` queued (empty when none), or the base result.
        """
        result = super()._klodr_notify(event, **values)
        queued = self.env["sms.sms"]
        for member in self:
            if not member._klodr_sms_allowed(event):
                continue
            try:
                with self.env.cr.savepoint():
                    queued |= member._klodr_queue_sms(event, values)
            except Exception as exc:
                if isinstance(exc, psycopg2.Error):
                    raise
                _logger.exception("Loyalty SMS: the %s message of member %s could not be queued", event, member.id)
        return queued or result

    def _klodr_notify_wanted(self, event):
        return super()._klodr_notify_wanted(event) or self._klodr_sms_allowed(event)

    def _klodr_sms_allowed(self, event):
        """Whether the program's settings let ``event`` be sent by SMS to this member."""
        self.ensure_one()
        program = self.program_id
        if event == "otp":
            return True
        if self.state != "active" or not program.sms_enabled:
            return False
        if event in ("earned", "redeemed"):
            return program.sms_notify_earn_redeem
        if event == "expiry":
            return program.sms_expiry_reminder_days > 0
        return True

    def _klodr_promo_consent(self):
        """Promotional SMS need the member's consent (and an active membership)."""
        self.ensure_one()
        return bool(self.state == "active" and self.consent_sms_promo)

    @api.model
    def _klodr_is_blacklisted(self, number):
        blacklist = self.env["phone.blacklist"].sudo()
        return bool(number) and bool(blacklist.search_count([("number", "=", number)], limit=1))

    def _klodr_sms_lang(self):
        """The member's SMS language: their own choice, their contact's, the company's, else English."""
        self.ensure_one()
        installed = {code for code, _name in self.env["res.lang"].get_installed()}
        for lang in (self.sms_lang, self.partner_id.lang, self.company_id.partner_id.lang):
            if lang and lang in installed:
                return lang
        return "en_US"

    def _klodr_sms_values(self, event, values, lang):
        """What the templates may use besides ``object`` (the member): ``program``, ``brand``,
        ``points``, ``balance`` and the event's own (``code``, ``amount``, ``to_tier``...)."""
        self.ensure_one()
        member = self.with_context(lang=lang)
        program = member.program_id
        member.invalidate_recordset(["balance"])
        # Numbers as text: an inline template renders a 0 as nothing. A deferred notification
        # (``klodr.notify.queue``) tells the balance of when it happened, not of when it is sent.
        result = {
            "program": program.name,
            "brand": program.sms_signature or program.company_id.name or "",
            "points": str(values.get("points") or 0),
            "balance": str(values["balance"] if values.get("balance") is not None else member.balance),
        }
        if event == "otp":
            result.update(code=values["code"], minutes=str(values.get("minutes") or 5))
        if event in ("redeemed", "otp"):
            redemption = values.get("redemption")
            result["amount"] = member._klodr_sms_amount(redemption.discount_amount) if redemption else ""
        if event == "tier_change":
            result["from_tier"] = values["from_tier"].with_context(lang=lang).name if values.get("from_tier") else ""
            result["to_tier"] = values["to_tier"].with_context(lang=lang).name if values.get("to_tier") else ""
        if event == "expiry":
            result["expiry_date"] = format_date(member.env, values.get("expiry_date"), lang_code=lang,
                                                date_format="d MMM yyyy")
            result["days"] = str(values.get("days") or 0)
        return result

    def _klodr_sms_amount(self, amount):
        """``INR 50.00``: plain characters, so an English SMS stays in one GSM segment."""
        currency = self.program_id.currency_id
        return f"{currency.name} {amount:.{currency.decimal_places}f}"

    def _klodr_queue_sms(self, event, values, *, redemption=None, expires_at=None):
        """Render the template of ``event`` for this member and queue it as one ``sms.sms``.

        Promotional templates need consent and a number off the blacklist, and wait for the
        10:00-21:00 window of the program's timezone (``klodr_send_after``).
        :return: the ``sms.sms`` (empty when nothing is to be sent).
        """
        self.ensure_one()
        sms_model = self.env["sms.sms"].sudo()
        template = self.env["sms.template"]._klodr_template(event)
        if not template or not self.mobile:
            return sms_model
        kind = template.klodr_kind or "service"
        if kind == "promotional" and (not self._klodr_promo_consent() or self._klodr_is_blacklisted(self.mobile)):
            return sms_model
        lang = self._klodr_sms_lang()
        body = template._klodr_render(self, self._klodr_sms_values(event, values, lang), lang)
        if not body:
            return sms_model
        send_after = False
        if kind == "promotional" or event in WINDOWED_SERVICE_EVENTS:
            send_after = window.next_send_time(fields.Datetime.now(), self.program_id.tz) or False
        sms = sms_model.create({
            "number": self.mobile,
            "body": body,
            "partner_id": self.partner_id.id,
            "record_company_id": self.company_id.id,
            "klodr_member_id": self.id,
            "klodr_redemption_id": redemption.id if redemption else False,
            "klodr_event": event,
            "klodr_kind": kind,
            "dlt_template_id": template.dlt_template_id,
            "klodr_send_after": send_after,
            "klodr_expires_at": expires_at or False,
        })
        if send_after:
            self.env.ref("sms.ir_cron_sms_scheduler_action").sudo()._trigger(send_after)
        return sms
