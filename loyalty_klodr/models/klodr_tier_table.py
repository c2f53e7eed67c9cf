"""The program's tiers as every earn reads them: cached, cleared when a tier or the tier settings change."""
from decimal import Decimal

from odoo import models
from odoo.tools import ormcache

from ..tools.tiers import TierLevel


class KlodrProgram(models.Model):
    _inherit = "klodr.program"

    def write(self, vals):
        result = super().write(vals)
        if {"tier_window_months", "program_type"} & vals.keys():
            self.env.registry.clear_cache()  # _tier_table
        return result

    @ormcache("self.id", "self.env.lang")
    def _tier_table(self):
        """What every earn needs of the program's tiers, cached (cleared when a tier or these
        settings change): ``levels`` (the active tiers as ``tools.tiers.TierLevel``, ladder order),
        ``by_id`` (every tier, archived ones too: ``code``, ``name`` in the language, ``multiplier``),
        ``uses_amount`` (a tier has a spend threshold), ``window_months``, ``program_type``."""
        self.ensure_one()
        program = self.sudo()
        tiers = self.env["klodr.tier"].sudo().with_context(active_test=False).search(
            [("program_id", "=", program.id)])
        active = tiers.filtered("active")
        return {
            "levels": tuple(TierLevel(t.id, t.name, t.threshold_points, Decimal(str(t.threshold_amount or 0)),
                                      t.sequence) for t in active),
            "by_id": {t.id: {"code": t.code or None, "name": t.name, "multiplier": t.multiplier or 1.0}
                      for t in tiers},
            "uses_amount": any(active.mapped("threshold_amount")),
            "window_months": program.tier_window_months or 12,
            "program_type": program.program_type,
        }


class KlodrTier(models.Model):
    """Tiers are read on every earn from the program's ``_tier_table`` cache: a change clears it."""

    _name = "klodr.tier"
    _inherit = ["klodr.tier", "klodr.cached.config"]
