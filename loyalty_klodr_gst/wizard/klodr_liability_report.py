import base64
import io
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.loyalty_klodr.tools import liability


class KlodrLiabilityReport(models.TransientModel):
    """Loyalty liability reconciliation: the ledger's points outstanding × value beside the
    liability account's balance (goal: a difference of 0.00), the outstanding points aged by
    month of expiry, and the points movement schedule of a period; XLSX export."""

    _name = "klodr.liability.report"
    _description = "Loyalty Liability Reconciliation"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    program_ids = fields.Many2many(
        "klodr.program", string="Programs", domain="[('company_id', '=', company_id)]",
        help="Empty: every program of the company with liability accounts.")
    date_from = fields.Date(string="Period From", required=True,
                            default=lambda self: fields.Date.context_today(self).replace(day=1))
    date_to = fields.Date(string="As Of", required=True, default=fields.Date.context_today)
    account_line_ids = fields.One2many("klodr.liability.report.account", "report_id", string="Reconciliation")
    ageing_line_ids = fields.One2many("klodr.liability.report.ageing", "report_id", string="Ageing by Expiry")
    schedule_line_ids = fields.One2many("klodr.liability.report.schedule", "report_id", string="Points Movement")
    total_difference = fields.Monetary(compute="_compute_total_difference", currency_field="currency_id")
    xlsx_file = fields.Binary(attachment=False, readonly=True)
    xlsx_name = fields.Char(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        reports = super().create(vals_list)
        reports._compute_lines()
        return reports

    @api.depends("account_line_ids.difference")
    def _compute_total_difference(self):
        for report in self:
            report.total_difference = sum(report.account_line_ids.mapped("difference"))

    def _programs(self):
        self.ensure_one()
        programs = self.program_ids or self.env["klodr.program"].with_context(active_test=False).search(
            [("company_id", "=", self.company_id.id)])
        return programs.filtered("liability_account_id")

    def _account_balance(self, account):
        """Credit minus debit of the posted journal items on ``account`` up to the report date."""
        self.env["account.move.line"].flush_model(["account_id", "company_id", "parent_state", "date", "debit",
                                                   "credit"])
        self.env.cr.execute(SQL(
            """SELECT COALESCE(SUM(credit - debit), 0) FROM account_move_line
                WHERE account_id = %s AND company_id = %s AND parent_state = 'posted' AND date <= %s""",
            account.id, self.company_id.id, self.date_to))
        return Decimal(str(self.env.cr.fetchone()[0]))

    def _compute_lines(self):
        for report in self:
            report.account_line_ids.unlink()
            report.ageing_line_ids.unlink()
            report.schedule_line_ids.unlink()
            programs = report._programs()
            rounding = Decimal(str(report.currency_id.rounding))
            by_account = {}
            ageing, schedule = [], []
            for program in programs:
                points, unposted = program._liability_points_until(report.date_to)
                expected, _diff = liability.reconcile(points, program._liability_unit(), 0, rounding)
                row = by_account.setdefault(program.liability_account_id, {
                    "programs": program.browse(), "points": 0, "unposted": 0, "expected": Decimal(0)})
                row["programs"] |= program
                row["points"] += points
                row["unposted"] += unposted
                row["expected"] += expected
                for bucket in program._liability_ageing():
                    ageing.append({"report_id": report.id, "program_id": program.id, "month": bucket.month,
                                   "points": bucket.points, "amount": float(bucket.amount)})
                moves = program._liability_schedule(report.date_from, report.date_to)
                schedule.append(dict(moves, report_id=report.id, program_id=program.id))
            accounts = []
            for account, row in by_account.items():
                balance = report._account_balance(account)
                accounts.append({
                    "report_id": report.id, "account_id": account.id, "program_ids": [(6, 0, row["programs"].ids)],
                    "points": row["points"], "unposted_points": row["unposted"],
                    "expected": float(row["expected"]), "balance": float(balance),
                    "difference": float(balance - row["expected"])})
            self.env["klodr.liability.report.account"].create(accounts)
            self.env["klodr.liability.report.ageing"].create(ageing)
            self.env["klodr.liability.report.schedule"].create(schedule)

    def action_compute(self):
        self._compute_lines()
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "current"}

    # ------------------------------------------------------------------
    # XLSX
    # ------------------------------------------------------------------
    def _xlsx_content(self):
        import xlsxwriter  # noqa: PLC0415 - as Odoo's own reports import it

        self.ensure_one()
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        sheets = [
            (self.env._("Reconciliation"),
             [self.env._("Liability account"), self.env._("Programs"), self.env._("Points outstanding"),
              self.env._("Not yet posted"), self.env._("Points x value"), self.env._("Account balance"),
              self.env._("Difference")],
             [[line.account_id.display_name, ", ".join(line.program_ids.mapped("name")), line.points,
               line.unposted_points, line.expected, line.balance, line.difference]
              for line in self.account_line_ids], {4, 5, 6}),
            (self.env._("Ageing by expiry"),
             [self.env._("Program"), self.env._("Expiry month"), self.env._("Points"), self.env._("Amount")],
             [[line.program_id.name, line.month_label, line.points, line.amount] for line in self.ageing_line_ids],
             {3}),
            (self.env._("Points movement"),
             [self.env._("Program"), self.env._("Opening"), self.env._("Issued"), self.env._("Redeemed"),
              self.env._("Expired"), self.env._("Reversed"), self.env._("Adjusted"), self.env._("Closing")],
             [[line.program_id.name] + [line[c] for c in liability.SCHEDULE_COLUMNS]
              for line in self.schedule_line_ids], set()),
        ]
        for title, header, rows, money_columns in sheets:
            sheet = workbook.add_worksheet(title[:31])
            sheet.write_row(0, 0, [self.company_id.name, f"{self.date_from} – {self.date_to}"], bold)
            sheet.write_row(2, 0, header, bold)
            for number, row in enumerate(rows, start=3):
                for column, value in enumerate(row):
                    sheet.write(number, column, value, money if column in money_columns else None)
            sheet.set_column(0, len(header), 18)
        workbook.close()
        return buffer.getvalue()

    def action_export_xlsx(self):
        self.ensure_one()
        self.write({"xlsx_file": base64.b64encode(self._xlsx_content()),
                    "xlsx_name": f"loyalty_liability_{self.date_to}.xlsx"})
        return {"type": "ir.actions.act_url", "target": "self",
                "url": f"/web/content/?model={self._name}&id={self.id}&field=xlsx_file"
                       f"&filename_field=xlsx_name&download=true"}


class KlodrLiabilityReportAccount(models.TransientModel):
    _name = "klodr.liability.report.account"
    _description = "Loyalty Liability Reconciliation Line"

    report_id = fields.Many2one("klodr.liability.report", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="report_id.currency_id")
    account_id = fields.Many2one("account.account", string="Liability Account", readonly=True)
    program_ids = fields.Many2many("klodr.program", string="Programs", readonly=True)
    points = fields.Integer(string="Points Outstanding", readonly=True)
    unposted_points = fields.Integer(string="Not Yet Posted", readonly=True)
    expected = fields.Monetary(string="Points × Value", readonly=True, currency_field="currency_id")
    balance = fields.Monetary(string="Account Balance", readonly=True, currency_field="currency_id")
    difference = fields.Monetary(readonly=True, currency_field="currency_id")

    def action_open_entries(self):
        """The ledger entries behind the points outstanding."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_ledger_entry_action")
        end = min(self.program_ids.mapped(lambda p: p._liability_day_end_utc(self.report_id.date_to)))
        action["domain"] = [("program_id", "in", self.program_ids.ids), ("date", "<", end)]
        action["context"] = {}
        return action

    def action_open_items(self):
        """The journal items behind the account balance."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "res_model": "account.move.line", "view_mode": "list,form",
            "name": self.account_id.display_name,
            "domain": [("account_id", "=", self.account_id.id), ("parent_state", "=", "posted"),
                       ("date", "<=", self.report_id.date_to), ("company_id", "=", self.report_id.company_id.id)],
        }


class KlodrLiabilityReportAgeing(models.TransientModel):
    _name = "klodr.liability.report.ageing"
    _description = "Loyalty Liability Ageing Line"
    _order = "program_id, month"

    report_id = fields.Many2one("klodr.liability.report", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="report_id.currency_id")
    program_id = fields.Many2one("klodr.program", readonly=True)
    month = fields.Date(readonly=True, help="First day of the month the points expire in; empty: no expiry or debts.")
    month_label = fields.Char(string="Expiry Month", compute="_compute_month_label")
    points = fields.Integer(readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")

    @api.depends("month")
    def _compute_month_label(self):
        for line in self:
            line.month_label = line.month.strftime("%Y-%m") if line.month else self.env._("No expiry / owed")

    def action_open_entries(self):
        """The lots (and debts) of this bucket."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_ledger_entry_action")
        if self.month:
            start: date = self.month
            domain = [("points", ">", 0), ("expiry_date", ">=", start),
                      ("expiry_date", "<", start + relativedelta(months=1))]
        else:
            domain = ["|", ("points", "<", 0), ("expiry_date", "=", False)]
        action["domain"] = [("program_id", "=", self.program_id.id), *domain]
        action["context"] = {}
        return action


class KlodrLiabilityReportSchedule(models.TransientModel):
    _name = "klodr.liability.report.schedule"
    _description = "Loyalty Points Movement Line"

    report_id = fields.Many2one("klodr.liability.report", required=True, ondelete="cascade")
    program_id = fields.Many2one("klodr.program", readonly=True)
    opening = fields.Integer(readonly=True)
    issued = fields.Integer(readonly=True)
    redeemed = fields.Integer(readonly=True)
    expired = fields.Integer(readonly=True)
    reversed = fields.Integer(readonly=True)
    adjusted = fields.Integer(readonly=True)
    closing = fields.Integer(readonly=True)
