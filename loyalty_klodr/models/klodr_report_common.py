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


REFRESHED_AT_PARAM = "loyalty_klodr.reports_refreshed_at"


class KlodrReportMixin(models.AbstractModel):
    """What the loyalty analyses share: a read-only SQL view over the ledger and its
    neighbours, with the program, company, store and the member's tier as dimensions.

    Each report gives its SELECT in ``_view_query``; ``init`` (re)creates the view and the
    indexes its filters need, so that the analyses answer over a million members. Tables that
    only add a dimension (the member's tier, the company's currency) are LEFT JOINed on their
    key: PostgreSQL then leaves them out of a query that does not ask for that dimension.

    A ``_materialized`` report sums the whole ledger per day (or expiry date) and dimension: it
    is a materialized view, refreshed nightly and on demand (``_refresh_reports``), so that
    pivots over the whole history of a million members answer at once; its ``id`` is unique.
    """

    _name = "klodr.report.mixin"
    _description = "Loyalty Analysis"
    _auto = False

    program_id = fields.Many2one("klodr.program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    store_id = fields.Many2one("klodr.store", readonly=True)
    tier_id = fields.Many2one("klodr.tier", readonly=True,
                              help="The member's tier today.")

    _materialized = False

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
        cr, table = self.env.cr, SQL.identifier(self._table)
        tools.drop_view_if_exists(cr, self._table)
        if not self._materialized:
            cr.execute(SQL("CREATE VIEW %s AS (%s)", table, self._view_query()))
            return
        cr.execute(SQL("CREATE MATERIALIZED VIEW %s AS (%s)", table, self._view_query()))
        cr.execute(SQL("CREATE UNIQUE INDEX %s ON %s (id)", SQL.identifier(f"{self._table}_id_idx"), table))
        for name, columns in self._materialized_indexes():
            cr.execute(SQL("CREATE INDEX %s ON %s (%s)", SQL.identifier(f"{self._table}_{name}_idx"), table,
                           SQL(", ").join(SQL.identifier(column) for column in columns)))

    @api.model
    def _materialized_indexes(self):
        """``[(name, columns)]``: indexes of a materialized report, for its usual filters."""
        return []

    @api.model
    def _refresh_reports(self):
        """Recompute every materialized analysis (CONCURRENTLY: readers are never blocked)."""
        self.env.flush_all()  # what they sum must be in the tables
        for model in self.env.registry.values():
            if getattr(model, "_materialized", False) and not model._abstract:
                self.env.cr.execute(SQL("REFRESH MATERIALIZED VIEW CONCURRENTLY %s", SQL.identifier(model._table)))
                self.env[model._name].invalidate_model()
        self.env["ir.config_parameter"].sudo().set_param(REFRESHED_AT_PARAM, fields.Datetime.to_string(
            fields.Datetime.now()))

    @api.model
    def _cron_refresh_reports(self):
        self._refresh_reports()

    @api.model
    def _refreshed_at(self):
        return fields.Datetime.to_datetime(self.env["ir.config_parameter"].sudo().get_param(REFRESHED_AT_PARAM))

    @api.model
    def _ratio_sql(self, query, numerator, denominator, factor=1):
        """``factor * SUM(numerator) / SUM(denominator)`` over a group (0 when the sum is 0)."""
        return SQL("COALESCE(%s * SUM(%s)::numeric / NULLIF(SUM(%s), 0), 0)", factor,
                   self._field_to_sql(self._table, numerator, query),
                   self._field_to_sql(self._table, denominator, query))
