from odoo import fields, models
from odoo.exceptions import AccessError


class KlodrApiKeyWizard(models.TransientModel):
    """Create an API key and show it once."""

    _name = "klodr.api.key.wizard"
    _description = "Create a Loyalty API Key"

    name = fields.Char(required=True, help="Who uses it: 'Shopify store', 'POS Indiranagar', ...")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    program_ids = fields.Many2many("klodr.program", string="Programs", domain="[('company_id', '=', company_id)]")
    token = fields.Char(readonly=True)
    key_id = fields.Many2one("klodr.api.key", readonly=True)

    def action_create(self):
        self.ensure_one()
        if not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise AccessError(self.env._("Only a Loyalty Manager can create API keys."))
        if self.key_id:  # shown once: a second click creates nothing
            return False
        key, token = self.env["klodr.api.key"]._generate(self.name, self.company_id, self.program_ids)
        # The token lives in this transient record only until the wizard is vacuumed.
        self.write({"token": token, "key_id": key.id})
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new"}
