from odoo import models


class ResCompany(models.Model):
    _inherit = "res.company"

    def write(self, vals):
        if "country_id" in vals:
            self.env.registry.clear_cache()  # klodr.program._phone_region
        return super().write(vals)
