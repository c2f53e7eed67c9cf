from odoo import api, fields, models
from odoo.tools import SQL


class KlodrLedgerAward(models.Model):
    """One line of an earn's breakdown: which rule or campaign gave how many points.

    Written with the ledger entry it details; rule caps count from these rows.
    """

    _name = "klodr.ledger.award"
    _description = "Loyalty Points Breakdown Line"
    _order = "id"
    _log_access = False

    entry_id = fields.Many2one("klodr.ledger.entry", required=True, readonly=True, index=True, ondelete="restrict")
    member_id = fields.Many2one("klodr.member", required=True, readonly=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    transaction_id = fields.Many2one("klodr.transaction", readonly=True, index="btree_not_null", ondelete="restrict")
    rule_id = fields.Many2one("klodr.earn.rule", readonly=True, ondelete="set null")
    campaign_id = fields.Many2one("klodr.campaign", readonly=True, ondelete="set null")
    label = fields.Char(readonly=True)
    points = fields.Integer(readonly=True)
    date = fields.Datetime(readonly=True)

    _member_rule_idx = models.Index("(member_id, rule_id, date)")

    @api.model
    def _usage(self, member_id, rule_ids, day_start, month_start):
        """(times, points) each rule gave the member today, this month and ever: {rule: (day, month, life)}."""
        if not rule_ids:
            return {}
        self.env.cr.execute(SQL(
            """SELECT rule_id,
                      COUNT(*) FILTER (WHERE date >= %s), COALESCE(SUM(points) FILTER (WHERE date >= %s), 0),
                      COUNT(*) FILTER (WHERE date >= %s), COALESCE(SUM(points) FILTER (WHERE date >= %s), 0),
                      COUNT(*), COALESCE(SUM(points), 0)
                 FROM klodr_ledger_award
                WHERE member_id = %s AND rule_id = ANY(%s)
                GROUP BY rule_id""",
            day_start, day_start, month_start, month_start, member_id, list(rule_ids)))
        return {row[0]: ((row[1], row[2]), (row[3], row[4]), (row[5], row[6])) for row in self.env.cr.fetchall()}
