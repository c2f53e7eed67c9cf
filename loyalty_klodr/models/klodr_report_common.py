from odoo import api, fields, models, tools
from odoo.tools import SQL

# A member is active when they bought or redeemed (``earn`` or ``redeem`` entries: the SQL
# names them literally, so that the partial index below serves it) in the last ACTIVE_DAYS days.
ACTIVE_DAYS = 90


def activity_index(cr):
    """The index that finds a member's latest purchase or redemption in one probe, and the
    members active in a period: entries of the activity types by member and date."""
    tools.create_index(cr, "klodr_ledger_entry_activity_idx", "klodr_ledger_entry", ["member_id", "date"],
                       where="entry_type IN ('earn', 'redeem')")


class KlodrReportMixin(models.AbstractModel):
    """What the loyalty analyses share: a read-only SQL view over the ledger and its
    neighbours, with the program, company, store, member and the member's tier as dimensions.

    Each report gives its SELECT in ``_view_query``; ``init`` (re)creates the view and the
    indexes its filters need, so that the analyses answer over a million members. Tables that
    only add a dimension (the member's tier, the company's currency) are LEFT JOINed on their
    key: PostgreSQL then leaves them out of a query that does not ask for that dimension.
    """

    _name = "klodr.report.mixin"
    _description = "Loyalty Analysis"
    _auto = False

    program_id = fields.Many2one("klodr.program", string="Program", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    store_id = fields.Many2one("klodr.store", string="Store", readonly=True)
    member_id = fields.Many2one("klodr.member", string="Member", readonly=True)
    tier_id = fields.Many2one("klodr.tier", string="Tier", readonly=True,
                              help="The member's tier today.")

    @api.model
    def _view_query(self):
        raise NotImplementedError

    @api.model
    def _create_indexes(self):
        """Indexes on the tables the view reads (created once, if missing)."""

    def init(self):
        if self._abstract:
            return
        self._create_indexes()
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE VIEW %s AS (%s)", SQL.identifier(self._table), self._view_query()))

    @api.model
    def _ratio_sql(self, query, numerator, denominator, factor=1):
        """``factor * SUM(numerator) / SUM(denominator)`` over a group (0 when the sum is 0)."""
        return SQL("COALESCE(%s * SUM(%s)::numeric / NULLIF(SUM(%s), 0), 0)", factor,
                   self._field_to_sql(self._table, numerator, query),
                   self._field_to_sql(self._table, denominator, query))
