from odoo import fields, models


class KlodrStore(models.Model):
    _inherit = "klodr.store"

    pos_config_ids = fields.One2many("pos.config", "klodr_store_id", string="Points of Sale",
                                     help="The counters (POS) of this showroom: their orders earn and redeem here.")
