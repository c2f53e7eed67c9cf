from odoo import fields, models, tools


class KlodrLedgerLot(models.Model):
    """Positive entries with what remains in them: derived, never stored."""

    _name = "klodr.ledger.lot"
    _description = "Loyalty Points Lot"
    _auto = False
    _order = "expiry_date, id"

    entry_id = fields.Many2one("klodr.ledger.entry", readonly=True)
    member_id = fields.Many2one("klodr.member", readonly=True)
    program_id = fields.Many2one("klodr.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    entry_type = fields.Selection(related="entry_id.entry_type")
    date = fields.Datetime(readonly=True)
    points = fields.Integer(readonly=True)
    remaining = fields.Integer(readonly=True)
    expiry_date = fields.Date(readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(f"""
            CREATE VIEW {self._table} AS
            SELECT e.id, e.id AS entry_id, e.member_id, e.program_id, e.company_id, e.date, e.points,
                   e.expiry_date,
                   e.points - COALESCE((SELECT SUM(a.points) FROM klodr_ledger_allocation a
                                        WHERE a.lot_entry_id = e.id), 0) AS remaining
              FROM klodr_ledger_entry e
             WHERE e.points > 0
        """)
