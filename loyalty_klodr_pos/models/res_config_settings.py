from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pos_klodr_program_id = fields.Many2one(related="pos_config_id.klodr_program_id", readonly=False)
    pos_klodr_store_id = fields.Many2one(related="pos_config_id.klodr_store_id", readonly=False)
    pos_klodr_reward_product_id = fields.Many2one(related="pos_config_id.klodr_reward_product_id", readonly=False)
    pos_klodr_free_product_mode = fields.Selection(related="pos_config_id.klodr_free_product_mode", readonly=False)
    pos_klodr_hold_hours = fields.Integer(related="pos_config_id.klodr_hold_hours", readonly=False)
