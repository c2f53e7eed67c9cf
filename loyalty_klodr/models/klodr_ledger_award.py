from odoo import api, fields, models
from odoo.tools import SQL


def _invalidate_inverses(model):
    """Rows written in SQL: the one2many fields pointing at ``model`` (an entry's or a purchase's
    breakdown, a member's purchases...) may be stale in the cache."""
    for field in model._fields.values():
        if field.type == "many2one":
            for inverse in model.pool.field_inverses[field]:
                model.env[inverse.model_name].invalidate_model([inverse.name])


def _null(value):
    """The ORM's False for "no value" is SQL's NULL (0 stays 0)."""
    return None if value is None or value is False else value


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
    def _insert_rows(self, rows):
        """INSERT breakdown lines (dicts of the fields below) in one statement; return the records,
        their values in the cache. Written by the ledger only, as its entries are."""
        columns = ("entry_id", "member_id", "company_id", "transaction_id", "rule_id", "campaign_id", "label",
                   "points", "date")
        self.env.cr.execute(SQL(
            """INSERT INTO klodr_ledger_award (entry_id, member_id, company_id, transaction_id, rule_id, campaign_id,
                                               label, points, date)
               SELECT * FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[], %s::int[], %s::int[],
                                    %s::varchar[], %s::int[], %s::timestamp[])
               RETURNING id""",
            *([_null(row.get(column)) for row in rows] for column in columns)))
        # ids come from the sequence in the order of the rows
        awards = self.browse(sorted(row[0] for row in self.env.cr.fetchall()))
        _invalidate_inverses(self)
        for award, row in zip(awards, rows, strict=True):
            award._update_cache({column: row.get(column) or False for column in columns}, validate=False)
        return awards

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
