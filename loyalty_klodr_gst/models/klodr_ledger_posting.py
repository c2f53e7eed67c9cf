from odoo import fields, models

from odoo.addons.loyalty_klodr.tools.liability import KINDS


class KlodrLedgerPosting(models.Model):
    """Which journal entry posted a ledger entry's liability: one row per ledger entry, ever.

    The ledger itself is append-only (a trigger refuses UPDATE), so the link lives here; the
    unique constraint on ``entry_id`` makes a second posting of an entry impossible, whatever
    two posting runs do at once.
    """

    _name = "klodr.ledger.posting"
    _description = "Loyalty Liability Posting"
    _order = "id desc"
    _rec_name = "entry_id"

    entry_id = fields.Many2one("klodr.ledger.entry", required=True, readonly=True, ondelete="restrict")
    program_id = fields.Many2one("klodr.program", required=True, readonly=True, index=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    kind = fields.Selection([(k, k.capitalize()) for k in KINDS], required=True, readonly=True)
    points = fields.Integer(required=True, readonly=True)
    day = fields.Date(required=True, readonly=True)
    move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True, index="btree_not_null",
                              ondelete="restrict",
                              help="Empty when the group's amount rounded to zero: posted, nothing to book.")

    _entry_unique = models.Constraint("UNIQUE(entry_id)", "This ledger entry is already posted.")
