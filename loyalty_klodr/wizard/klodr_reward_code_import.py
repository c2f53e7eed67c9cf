import base64
import binascii

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.rewards import VOUCHER, parse_codes


class KlodrRewardCodeImport(models.TransientModel):
    """Fill a voucher reward's pool: codes pasted one per line, or a CSV file (first column)."""

    _name = "klodr.reward.code.import"
    _description = "Import Voucher Codes"

    reward_id = fields.Many2one("klodr.reward", required=True, domain=[("reward_type", "=", VOUCHER)])
    codes_text = fields.Text(string="Codes", help="One code per line.")
    file = fields.Binary(string="CSV File", help="Codes in the first column; a 'code' header is skipped.")
    filename = fields.Char()

    def _codes(self):
        self.ensure_one()
        text = self.codes_text or ""
        if self.file:
            try:
                raw = base64.b64decode(self.file)
            except (binascii.Error, ValueError) as exc:
                raise UserError(self.env._("The file could not be read.")) from exc
            try:
                content = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                content = raw.decode("latin-1")
            text = f"{text}\n{content}"
        return parse_codes(text)

    def action_import(self):
        self.ensure_one()
        if not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise AccessError(self.env._("Only a Loyalty Manager can import voucher codes."))
        reward = self.reward_id
        if reward.reward_type != VOUCHER:
            raise UserError(self.env._("Codes are imported into voucher rewards only."))
        codes = self._codes()
        if not codes:
            raise UserError(self.env._("Paste codes, one per line, or choose a CSV file."))
        Code = self.env["klodr.reward.code"]
        existing = set(Code.sudo().search([("reward_id", "=", reward.id), ("code", "in", codes)]).mapped("code"))
        new = [code for code in codes if code not in existing]
        Code.create([{"reward_id": reward.id, "code": code} for code in new])
        message = self.env._("%(added)s code(s) added to %(reward)s; %(skipped)s already in the pool.",
                             added=len(new), reward=reward.name, skipped=len(existing))
        reward.message_post(body=message)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": message, "type": "success", "next": {"type": "ir.actions.act_window_close"}},
        }
