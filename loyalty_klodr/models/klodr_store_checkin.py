from urllib.parse import urlencode

import pytz

from odoo import fields, models

from ..tools import checkin


class KlodrStore(models.Model):
    """Check-in at a store: a QR code signed for the store and the day, scanned by members."""

    _inherit = "klodr.store"

    def _checkin_secret(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.secret")

    def _checkin_today(self):
        """Today at the store: in the timezone of its company's program (the members' day)."""
        self.ensure_one()
        program = self.env["klodr.program"].sudo().search([("company_id", "=", self.company_id.id)], limit=1)
        tz = pytz.timezone(program.tz or self.env.user.tz or "UTC")
        return pytz.utc.localize(fields.Datetime.now()).astimezone(tz).date()

    def _checkin_url(self, day=None):
        """The link today's QR code of the store opens (absolute)."""
        self.ensure_one()
        query = checkin.query(self._checkin_secret(), self.id, day or self._checkin_today())
        return f"{self.get_base_url()}/my/loyalty/checkin?{urlencode(query)}"

    def action_checkin_qr(self):
        """Today's check-in QR code of the store, to show at the counter (a new one every day)."""
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": f"/klodr/store/{self.id}/checkin-qr", "target": "new"}
