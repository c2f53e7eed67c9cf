from datetime import timedelta

from odoo import api, fields, models


class KlodrSmsReminder(models.Model):
    """An expiry reminder sent: one per member and expiry date, ever."""

    _name = "klodr.sms.reminder"
    _description = "Loyalty Expiry Reminder"
    _order = "id desc"

    member_id = fields.Many2one("klodr.member", required=True, readonly=True, index=True, ondelete="cascade")
    program_id = fields.Many2one(related="member_id.program_id", store=True)
    company_id = fields.Many2one(related="member_id.company_id", store=True, index=True)
    expiry_date = fields.Date(required=True, readonly=True)
    points = fields.Integer(readonly=True)
    sms_id = fields.Many2one("sms.sms", string="SMS", readonly=True, ondelete="set null")

    _member_expiry_unique = models.Constraint(
        "UNIQUE(member_id, expiry_date)", "A member is reminded once of each expiry date.")

    @api.model
    def _cron_send_reminders(self):
        self._send_reminders(progress=self.env["ir.cron"]._commit_progress)

    @api.model
    def _send_reminders(self, progress=None):
        """For each program, remind members whose points expire in exactly N days (the program's
        setting, its local date) of the points still in those lots. Once per member and date.

        :return: the reminders created.
        """
        reminders = self.browse()
        programs = self.env["klodr.program"].sudo().search(
            [("sms_enabled", "=", True), ("sms_expiry_reminder_days", ">", 0)])
        Member = self.env["klodr.member"].sudo()
        for program in programs:
            days = program.sms_expiry_reminder_days
            expiry_date = Member._local_today(program) + timedelta(days=days)
            groups = self.env["klodr.ledger.lot"].sudo()._read_group(
                [("program_id", "=", program.id), ("expiry_date", "=", expiry_date), ("remaining", ">", 0),
                 ("member_id.state", "=", "active")],
                ["member_id"], ["remaining:sum"])
            done = set(self.sudo().search([("member_id", "in", [member.id for member, _points in groups]),
                                           ("expiry_date", "=", expiry_date)]).member_id.ids)
            for member, points in groups:
                points = int(points or 0)
                if member.id in done or points <= 0:
                    continue
                sms = member._klodr_notify("expiry", points=points, expiry_date=expiry_date, days=days)
                if sms and sms._name == "sms.sms":
                    reminders |= self.sudo().create({"member_id": member.id, "expiry_date": expiry_date,
                                                     "points": points, "sms_id": sms[:1].id})
            if progress:
                progress(len(groups))
        return reminders
