from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..report.klodr_statement_report import CONTEXT_FROM, CONTEXT_TO


class KlodrStatementWizard(models.TransientModel):
    """Choose the period of a member's points statement, then print it or send it by email."""

    _name = "klodr.statement.wizard"
    _description = "Loyalty Points Statement"

    member_id = fields.Many2one("klodr.member", required=True, readonly=True, ondelete="cascade")
    date_from = fields.Date(string="From", help="Empty: from the first entry.")
    date_to = fields.Date(string="To", required=True)
    email = fields.Char(related="member_id.email")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        member = self.env["klodr.member"].browse(values.get("member_id") or self.env.context.get("active_id"))
        if member.exists():
            today = member._local_today(member.program_id)
            values.setdefault("date_to", today)
            values.setdefault("date_from", today - relativedelta(years=1) + relativedelta(days=1))
        return values

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self:
            if wizard.date_from and wizard.date_to and wizard.date_from > wizard.date_to:
                raise ValidationError(self.env._("The statement's period ends before it starts."))

    def _report_data(self):
        self.ensure_one()
        return {"date_from": fields.Date.to_string(self.date_from) if self.date_from else False,
                "date_to": fields.Date.to_string(self.date_to)}

    def action_print(self):
        self.ensure_one()
        return self.env.ref("loyalty_klodr.action_report_member_statement").report_action(
            self.member_id, data=self._report_data())

    def action_send(self):
        """Odoo's mail composer with the statement template; the period travels in the context
        so that the template's report renders this period."""
        self.ensure_one()
        member = self.member_id
        if not member.email and not member.partner_id.email:
            raise UserError(self.env._("Member %s has no email address.", member.code))
        template = self.env.ref("loyalty_klodr.mail_template_member_statement")
        data = self._report_data()
        return {
            "type": "ir.actions.act_window",
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "klodr.member",
                "default_res_ids": member.ids,
                "default_template_id": template.id,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_light",
                "force_email": True,
                CONTEXT_FROM: data["date_from"],
                CONTEXT_TO: data["date_to"],
            },
        }
