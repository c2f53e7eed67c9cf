import ast
from datetime import date

import pytz

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.base.models.res_lang import intersperse

# Keys a caller (the statement wizard, the mail composer it opens) sets in the context to
# choose the period when the report is rendered without data (a mail template's report).
CONTEXT_FROM = "klodr_statement_date_from"
CONTEXT_TO = "klodr_statement_date_to"


def _as_date(value):
    if not value:
        return None
    if isinstance(value, date):
        return value
    return fields.Date.to_date(value)


class ReportKlodrMemberStatement(models.AbstractModel):
    """The points statement of members for a period: opening balance, every entry with its
    running balance, closing balance. The numbers are the ledger's own (``_statement``)."""

    _name = "report.loyalty_klodr.report_member_statement"
    _description = "Loyalty Points Statement"

    @api.model
    def _period(self, data=None):
        """``(date_from, date_to)`` from the report data, else from the context; None: unbounded."""
        data = data or {}
        context = self.env.context
        date_from = _as_date(data.get("date_from") or context.get(CONTEXT_FROM))
        date_to = _as_date(data.get("date_to") or context.get(CONTEXT_TO))
        return date_from, date_to

    @api.model
    def _statement_values(self, member, date_from=None, date_to=None):
        """What the statement of ``member`` shows: the ledger's opening and closing balances and
        one line per entry (date, store, reference, type, points, running balance, expiry).

        Each number and date also comes formatted for the member's language (``*_text``): a
        statement may hold thousands of lines, which QWeb's field widgets would format one
        by one far more slowly.
        """
        statement = member._statement(date_from, date_to)
        entries = statement["entries"]
        lang_code = self._lang(member)
        env = self.with_context(lang=lang_code).env
        types = dict(entries._fields["entry_type"]._description_selection(env))
        lang = env["res.lang"]._get_data(code=lang_code) or env["res.lang"]._get_data(code="en_US")
        date_format = lang.date_format or "%m/%d/%Y"
        datetime_format = f"{date_format} {(lang.time_format or '%H:%M:%S').replace(':%S', '')}"
        grouping, separator = ast.literal_eval(lang.grouping or "[]"), lang.thousands_sep or ""
        tz = pytz.timezone(member.program_id.tz or "UTC")

        def number(value):  # res.lang.format, without parsing the grouping again for each number
            return intersperse(str(value), grouping, separator)[0]

        # Entries are immutable and written in SQL: their columns are read the same way, in one query.
        self.env.cr.execute(SQL(
            """SELECT e.date, s.name, e.source_ref, e.description, e.entry_type, e.points, e.balance_after,
                      e.expiry_date
                 FROM klodr_ledger_entry e LEFT JOIN klodr_store s ON s.id = e.store_id
                WHERE e.id = ANY(%s) ORDER BY e.id""", entries.ids))
        columns = ("date", "store", "source_ref", "description", "entry_type", "points", "balance_after",
                   "expiry_date")
        lines = []
        for row in (dict(zip(columns, values, strict=True)) for values in self.env.cr.fetchall()):
            expiry = row["expiry_date"]
            lines.append({
                "date": row["date"],
                "date_text": pytz.utc.localize(row["date"]).astimezone(tz).strftime(datetime_format),
                "store": row["store"] or "",
                "reference": row["source_ref"] or "",
                "description": row["description"] or "",
                "type": types.get(row["entry_type"], row["entry_type"]),
                "points": row["points"],
                "points_text": number(row["points"]),
                "balance": row["balance_after"],
                "balance_text": number(row["balance_after"]),
                "expiry_date": expiry or False,
                "expiry_text": expiry.strftime(date_format) if expiry else "",
            })
        credits = sum(line["points"] for line in lines if line["points"] > 0)
        debits = sum(line["points"] for line in lines if line["points"] < 0)
        return {
            "member": member,
            "lang": lang_code,
            "program": member.program_id,
            "date_from": date_from,
            "date_to": date_to,
            "date_from_text": date_from.strftime(date_format) if date_from else "",
            "date_to_text": date_to.strftime(date_format) if date_to else "",
            "tz": member.program_id.tz or "UTC",
            "opening_balance": statement["opening_balance"],
            "closing_balance": statement["closing_balance"],
            "opening_text": number(statement["opening_balance"]),
            "closing_text": number(statement["closing_balance"]),
            "credits": credits,
            "debits": debits,
            "credits_text": number(credits),
            "debits_text": number(debits),
            "lines": lines,
        }

    @api.model
    def _lang(self, member):
        """The statement speaks the member's language when their contact has one."""
        return member.partner_id.lang or self.env.lang or "en_US"

    @api.model
    def _get_report_values(self, docids, data=None):
        members = self.env["klodr.member"].browse(docids)
        members.check_access("read")
        date_from, date_to = self._period(data)
        # Entries, stores and programs are read whoever prints: the member's own ledger.
        return {
            "doc_ids": docids,
            "doc_model": "klodr.member",
            "docs": members,
            "statements": {member.id: self._statement_values(member.sudo(), date_from, date_to)
                           for member in members},
        }
