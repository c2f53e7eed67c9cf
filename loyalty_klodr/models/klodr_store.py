from odoo import fields, models


class KlodrStore(models.Model):
    """A showroom or channel where points are earned and spent."""

    _name = "klodr.store"
    _description = "Loyalty Store"
    _order = "name"

    name = fields.Char(required=True)
    code = fields.Char(required=True, help="Reference integrations send as store_ref.")
    company_id = fields.Many2one("res.company", required=True, index=True,
                                 default=lambda self: self.env.company)
    active = fields.Boolean(default=True)

    _code_unique = models.Constraint("UNIQUE(company_id, code)",
                                     "A store code is unique within a company.")
