from odoo import api, fields, models

# What a loyalty SMS is about; one template each (sms.template.klodr_event).
KLODR_EVENTS = [
    ("otp", "Redemption OTP"),
    ("welcome", "Welcome"),
    ("earned", "Points Earned"),
    ("redeemed", "Points Redeemed"),
    ("expiry", "Points Expiring"),
    ("tier_change", "Tier Change"),
    ("birthday", "Birthday"),
    ("anniversary", "Anniversary"),
]
# What loyalty templates may use besides ``object`` (the member).
KLODR_TEMPLATE_VALUES = ("program", "brand", "points", "balance", "code", "minutes", "amount", "from_tier", "to_tier",
                         "expiry_date", "days")
# DLT content categories, reduced to what changes our behaviour: promotional messages need the
# member's consent, skip blacklisted numbers and wait for 10:00-21:00 local time.
KLODR_KINDS = [("service", "Service"), ("promotional", "Promotional")]


class SmsTemplate(models.Model):
    _inherit = "sms.template"

    dlt_template_id = fields.Char(
        string="DLT Template ID",
        help="Id of the content template registered on the DLT platform; the DLT gateway sends it with "
             "every message from this template. The body must match the registered text.")
    klodr_event = fields.Selection(
        KLODR_EVENTS, string="Loyalty Event", copy=False, index="btree_not_null",
        help="Klodr Loyalty sends this template when the event happens to a member.")
    klodr_kind = fields.Selection(
        KLODR_KINDS, string="Message Kind", default="service",
        help="Service: OTP and account messages, always sent. Promotional: only to members who consented, "
             "never to blacklisted numbers, between 10:00 and 21:00 in the program's timezone.")

    _klodr_event_unique = models.UniqueIndex(
        "(klodr_event) WHERE klodr_event IS NOT NULL", "Each loyalty event has one SMS template.")

    def _render_eval_context(self):
        # The values a loyalty SMS is rendered with (see klodr.member._klodr_sms_values) default to
        # nothing, so that a preview, or the SMS composer, renders the template instead of failing.
        render_context = super()._render_eval_context()
        if len(self) == 1 and self.klodr_event:
            for name in KLODR_TEMPLATE_VALUES:
                render_context.setdefault(name, "")
        return render_context

    @api.model
    def _klodr_template(self, event):
        """The template of a loyalty ``event`` (empty when there is none)."""
        return self.sudo().search([("klodr_event", "=", event)], limit=1)

    def _klodr_render(self, record, values, lang):
        """The body rendered for ``record`` in ``lang`` with the extra ``values`` (``{{ code }}``...).

        Nothing is posted or logged: the caller puts the text in one ``sms.sms`` and nowhere else.
        """
        self.ensure_one()
        rendered = self.sudo()._render_field("body", record.ids, set_lang=lang, add_context=values)
        return (rendered.get(record.id) or "").strip()
