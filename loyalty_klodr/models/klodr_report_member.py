from odoo import api, fields, models
from odoo.tools import SQL

from .klodr_report_common import ACTIVE_DAYS, activity_index


class KlodrReportMember(models.Model):
    """New, active and lapsed members: one row per member with the date of their last purchase
    or redemption. New: enrolled in the last 90 days; active: bought or redeemed in the last 90
    days; lapsed: did before, not since; dormant: never did. Materialized: the statuses are
    those of the last refresh (nightly, or the dashboard's button)."""

    _name = "klodr.report.member"
    _inherit = ["klodr.report.mixin"]
    _description = "Loyalty Member Activity Analysis"
    _auto = False
    _materialized = True
    _order = "enrolled_on desc, id desc"
    _rec_name = "member_id"

    member_id = fields.Many2one("klodr.member", readonly=True)
    state = fields.Selection([("active", "Active"), ("blocked", "Blocked"), ("erased", "Erased")],
                             string="Membership", readonly=True)
    enrolled_on = fields.Datetime(readonly=True)
    last_activity = fields.Datetime(readonly=True)
    status = fields.Selection(
        [("new", "New"), ("active", "Active"), ("lapsed", "Lapsed"), ("dormant", "Never Active")],
        readonly=True)
    member_count = fields.Integer(string="Members", readonly=True)
    new_count = fields.Integer(string="New Members", readonly=True)
    active_count = fields.Integer(string="Active Members", readonly=True,
                                  help="Bought or redeemed in the last 90 days (new members included).")
    lapsed_count = fields.Integer(string="Lapsed Members", readonly=True)
    balance = fields.Integer(readonly=True)

    @api.model
    def _view_query(self):
        since = SQL("(NOW() AT TIME ZONE 'UTC') - %s * INTERVAL '1 day'", ACTIVE_DAYS)
        return SQL("""
            SELECT m.id, m.id AS member_id, m.program_id, m.company_id, m.store_id, m.tier_id, m.state,
                   m.create_date AS enrolled_on, a.last_date AS last_activity, m.balance, 1 AS member_count,
                   CASE WHEN m.create_date >= %(since)s THEN 'new'
                        WHEN a.last_date >= %(since)s THEN 'active'
                        WHEN a.last_date IS NOT NULL THEN 'lapsed'
                        ELSE 'dormant' END AS status,
                   CASE WHEN m.create_date >= %(since)s THEN 1 ELSE 0 END AS new_count,
                   CASE WHEN a.last_date >= %(since)s THEN 1 ELSE 0 END AS active_count,
                   CASE WHEN m.create_date < %(since)s AND a.last_date < %(since)s THEN 1 ELSE 0 END AS lapsed_count
              FROM klodr_member m
              LEFT JOIN LATERAL (
                   SELECT MAX(e.date) AS last_date FROM klodr_ledger_entry e
                    WHERE e.member_id = m.id AND e.entry_type IN ('earn', 'redeem')) a ON TRUE
        """, since=since)

    @api.model
    def _materialized_indexes(self):
        return [("program_status", ["program_id", "status"])]

    @api.model
    def _create_indexes(self):
        activity_index(self.env.cr)
