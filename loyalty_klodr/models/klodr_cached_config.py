from odoo import api, models


class KlodrCachedConfig(models.AbstractModel):
    """Configuration that hot paths read from ``ormcache``: any change clears the caches.

    Programs cache their compiled rules and campaigns, companies their webhook
    subscriptions; the registry's cache is shared by every worker through its
    signalling, so a change is seen everywhere.
    """

    _name = "klodr.cached.config"
    _description = "Loyalty Cached Configuration"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
