from odoo import api, fields, models
from odoo.exceptions import UserError

from .klodr_ledger_entry import install_append_only_trigger


class KlodrLedgerAllocation(models.Model):
    """Points a debit took from a lot. Append-only, written by the ledger in SQL."""

    _name = "klodr.ledger.allocation"
    _description = "Loyalty Lot Allocation"
    _order = "id"
    _log_access = False

    debit_entry_id = fields.Many2one("klodr.ledger.entry", required=True, readonly=True, index=True,
                                     ondelete="restrict")
    lot_entry_id = fields.Many2one("klodr.ledger.entry", required=True, readonly=True, index=True,
                                   ondelete="restrict")
    points = fields.Integer(required=True, readonly=True)
    lot_expiry_date = fields.Date(related="lot_entry_id.expiry_date")
    company_id = fields.Many2one(related="debit_entry_id.company_id")

    _points_positive = models.Constraint("CHECK(points > 0)", "An allocation moves a positive number of points.")

    def init(self):
        install_append_only_trigger(self.env.cr, self._table)

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        # The ledger inserts allocations in SQL with the entry they belong to; nothing else may.
        raise UserError(self.env._("Allocations are written by the ledger only."))

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("Allocations cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("Allocations cannot be deleted."))
