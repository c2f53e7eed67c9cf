from odoo import api, fields, models
from odoo.exceptions import ValidationError


class KlodrProgram(models.Model):
    _inherit = "klodr.program"

    sms_enabled = fields.Boolean(
        string="Send SMS to Members", default=True,
        help="Notifications (welcome, points, tiers, wishes, expiry reminders). OTPs are always sent.")
    sms_notify_earn_redeem = fields.Boolean(string="SMS on Earn and Redeem", default=True)
    sms_expiry_reminder_days = fields.Integer(
        string="Expiry Reminder (days before)", default=7,
        help="Members are told this many days before their points expire; 0: no reminder.")
    sms_signature = fields.Char(
        string="SMS Signature",
        help="The brand at the end of every SMS, as in the DLT-registered templates (e.g. KLODR). "
             "Empty: the company's name.")

    @api.constrains("sms_expiry_reminder_days")
    def _check_sms_expiry_reminder_days(self):
        for program in self:
            if not 0 <= program.sms_expiry_reminder_days <= 365:
                raise ValidationError(self.env._("The expiry reminder is sent 0 to 365 days before."))
