import json

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools import privacy
from .klodr_member_consent import CONSENT_FIELDS, CONTEXT_CHANNEL


class KlodrMember(models.Model):
    """Privacy of members (DPDP Act 2023): consent per purpose, erasure and export."""

    _inherit = "klodr.member"  # pylint: disable=consider-merging-classes-inherited
    _primary_email = "email"

    consent_ids = fields.One2many("klodr.member.consent", "member_id", string="Consent History", readonly=True)
    erased_date = fields.Datetime(readonly=True, copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        members = super().create(vals_list)
        self.env["klodr.member.consent"]._log(members, list(CONSENT_FIELDS))
        return members

    def write(self, vals):
        if "state" in vals:
            if vals["state"] == "erased":
                raise UserError(self.env._("Erase a member's personal data with its button."))
            if any(member.state == "erased" for member in self):
                raise UserError(self.env._("An erased member stays erased."))
        fnames = [fname for fname in CONSENT_FIELDS if fname in vals]
        before = {(member.id, fname): bool(member[fname]) for member in self for fname in fnames}
        result = super().write(vals)
        Consent = self.env["klodr.member.consent"]
        for fname in fnames:
            changed = self.filtered(lambda m, f=fname: bool(m[f]) != before[(m.id, f)])
            Consent._log(changed, [fname])
        return result

    # ------------------------------------------------------------------
    # Erasure
    # ------------------------------------------------------------------
    def action_erase(self):
        if not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise AccessError(self.env._("Only a Loyalty Manager can erase a member's personal data."))
        for member in self:
            member._erase_personal_data()
        return True

    def _erase_personal_data(self):
        """Pseudonymise the member: name, mobile, email, birthday and anniversary replaced, the
        contact detached, consents withdrawn, state ``erased``. The member row stays, so its
        ledger, balance and hash chain stay whole (the hash covers no personal data).

        :return: False when the member was already erased.
        """
        self.ensure_one()
        self.check_access("write")
        if self.state == "erased":
            return False
        if self.held_points:
            raise UserError(self.env._(
                "Member %s has points on hold for a redemption: confirm or cancel it before erasing.", self.code))
        secrets = [value for value in (self.mobile, self.email, self.name) if value]
        pseudonyms = privacy.pseudonyms(self.id, self.code)
        now = fields.Datetime.now()
        self.flush_recordset()
        # In SQL: the ORM would normalise the pseudonym as a phone number and track the old
        # values in the chatter, which is what is being erased.
        self.env.cr.execute(SQL(
            """UPDATE klodr_member
                  SET name = %(name)s, mobile = %(mobile)s, email = NULL, birthday = NULL, anniversary = NULL,
                      partner_id = NULL, state = 'erased', erased_date = %(now)s,
                      consent_membership = FALSE, consent_membership_date = %(now)s,
                      consent_sms_promo = FALSE, consent_sms_promo_date = %(now)s,
                      write_uid = %(uid)s, write_date = %(now)s
                WHERE id = %(id)s""",
            name=pseudonyms["name"], mobile=pseudonyms["mobile"], now=now, uid=self.env.uid, id=self.id))
        self.invalidate_recordset()
        self.env["klodr.member.consent"].with_context(**{CONTEXT_CHANNEL: "erasure"})._log(self, list(CONSENT_FIELDS))
        self._erase_related_personal_data(secrets)
        self.message_post(body=self.env._(
            "Personal data erased on request: name, mobile, email, birthday and anniversary replaced, "
            "contact detached. The points ledger is kept whole."))
        return True

    def _erase_related_personal_data(self, secrets):
        """Remove the copies of the erased member's personal data kept elsewhere: the chatter
        (its tracking holds old names and numbers), receipts of claims, OTP send log, webhook
        payloads and stored API answers. Addons that keep more extend this."""
        self.ensure_one()
        env = self.sudo().env
        env["mail.message"].search([("model", "=", self._name), ("res_id", "=", self.id)]).unlink()
        env["mail.followers"].search([("res_model", "=", self._name), ("res_id", "=", self.id)]).unlink()
        claims = env["klodr.claim"].search([("member_id", "=", self.id)])
        if claims:
            claims.with_context(klodr_claim_decide=True).write(
                {"receipt_file": False, "receipt_filename": False, "note": False})
            # Their chatter tracked the claimant's name (the member's display name).
            env["mail.tracking.value"].search([
                ("mail_message_id.model", "=", "klodr.claim"), ("mail_message_id.res_id", "in", claims.ids),
            ]).filtered(lambda t: any(s in (t.old_value_char or "") + (t.new_value_char or "")
                                      for s in secrets)).unlink()
        self.env.cr.execute(SQL("UPDATE klodr_otp_send SET mobile = %s WHERE member_id = %s",
                                privacy.pseudonyms(self.id, self.code)["mobile"], self.id))
        for delivery in env["klodr.webhook.delivery"].search([("member_id", "=", self.id)]):
            payload = privacy.scrub(delivery.payload, secrets)
            if payload != delivery.payload:
                self.env.cr.execute(SQL("UPDATE klodr_webhook_delivery SET payload = %s WHERE id = %s",
                                        payload, delivery.id))
        if self.company_id and secrets:
            # Stored API answers (kept a few days for idempotent replays) that carry the member's
            # mobile number: the number identifies the member where a name would not.
            self.env.cr.execute(SQL(
                "SELECT id, response_body FROM klodr_api_idempotency WHERE company_id = %s AND response_body LIKE %s",
                self.company_id.id, f"%{secrets[0]}%"))
            for row_id, body in self.env.cr.fetchall():
                self.env.cr.execute(SQL("UPDATE klodr_api_idempotency SET response_body = %s WHERE id = %s",
                                        privacy.scrub(body, secrets), row_id))
        env["klodr.webhook.delivery"].invalidate_model(["payload"])
        env["klodr.api.idempotency"].invalidate_model(["response_body"])

    # ------------------------------------------------------------------
    # Export
    # ------------------------------------------------------------------
    def action_export_personal_data(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": f"/klodr/member/{self.id}/export", "target": "download"}

    def _export_personal_data(self):
        """Everything the program holds about the member, as JSON-ready data (the DPDP right to
        access): profile, consents, ledger, purchases, redemptions, rewards, claims, tier changes."""
        self.ensure_one()
        member = self.sudo()
        currency = member.program_id.currency_id

        def when(value):
            return fields.Datetime.to_string(value) if value else None

        def day(value):
            return fields.Date.to_string(value) if value else None

        def money(value):
            return f"{value or 0:.{currency.decimal_places if currency else 2}f}"

        return {
            "format": "klodr-member-export/1",
            "exported_at": when(fields.Datetime.now()),
            "member": {
                "code": member.code, "name": member.name, "mobile": member.mobile, "email": member.email or None,
                "birthday": day(member.birthday), "anniversary": day(member.anniversary), "state": member.state,
                "program": member.program_id.name, "enrolled_at": when(member.create_date),
                "enrolled_store": member.store_id.name or None, "tier": member.tier_id.name or None,
                "balance": member.balance, "referral_code": member.referral_code,
                "referred_by": member.referred_by_id.code or None, "contact": member.partner_id.display_name or None,
            },
            "consents": {
                "current": {purpose: {"granted": bool(member[fname]), "date": when(member[f"{fname}_date"])}
                            for fname, purpose in CONSENT_FIELDS.items()},
                "history": [{"purpose": c.purpose, "granted": c.granted, "date": when(c.date), "channel": c.channel}
                            for c in member.consent_ids.sorted("id")],
            },
            "ledger": [{"date": when(e.date), "type": e.entry_type, "points": e.points,
                        "balance_after": e.balance_after, "reference": e.source_ref or None,
                        "store": e.store_id.name or None, "expires_on": day(e.expiry_date),
                        "description": e.description or None}
                       for e in member.entry_ids.sorted("id")],
            "purchases": [{"date": when(t.date), "order_ref": t.order_ref, "store": t.store_id.name or None,
                           "amount": money(t.amount), "refunded_amount": money(t.refunded_amount),
                           "points_earned": t.points_earned,
                           "lines": [{"product": line.product_id.display_name or line.product_ref or None,
                                      "category": line.category_id.complete_name or line.category_ref or None,
                                      "quantity": line.quantity, "amount": money(line.amount)}
                                     for line in t.line_ids]}
                          for t in member.transaction_ids.sorted("id")],
            "redemptions": [{"date": when(r.create_date), "reference": r.name, "reward": r.reward_id.name or None,
                             "points": r.points, "discount_amount": money(r.discount_amount),
                             "order_ref": r.order_ref or None, "store": r.store_id.name or None, "state": r.state}
                            for r in self.env["klodr.redemption"].sudo().search(
                                [("member_id", "=", member.id)], order="id")],
            "rewards": [{"date": when(i.date), "reward": i.reward_id.name, "points": i.points,
                         "value": money(i.value), "state": i.state}
                        for i in self.env["klodr.reward.issue"].sudo().search(
                            [("member_id", "=", member.id)], order="id")],
            "claims": [{"receipt_ref": c.receipt_ref, "receipt_date": day(c.receipt_date),
                        "amount": money(c.amount), "store": c.store_id.name or None, "state": c.state,
                        "points": c.points, "note": c.note or None}
                       for c in self.env["klodr.claim"].sudo().search([("member_id", "=", member.id)], order="id")],
            "tier_changes": [{"date": when(h.date), "from": h.from_tier_id.name or None,
                              "to": h.to_tier_id.name or None, "reason": h.reason or None}
                             for h in member.tier_history_ids.sorted("id")],
        }

    def _export_personal_data_json(self):
        return json.dumps(self._export_personal_data(), indent=2, ensure_ascii=False)
