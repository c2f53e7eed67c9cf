import io
import logging
import random
import time
import zipfile
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.sql_db import db_connect
from odoo.tests import tagged

from .common import D, KlodrGstCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestLiability(KlodrGstCommon):

    def moves(self):
        return self.env["account.move"].search([("klodr_liability_program_id", "=", self.program.id)],
                                               order="id")

    def lines_of(self, move):
        return sorted((line.account_id.code, line.debit, line.credit) for line in move.line_ids)

    def worked_example(self):
        """₹10,000 sale earning 100 points worth ₹1 (80 % expected to be redeemed); 50 redeemed, 50 expire."""
        transaction = self.member._earn_order(10000, order_ref="SALE-1")
        self.assertEqual(transaction.points_earned, 100)
        self.assertEqual(self.program._post_liability(), 1)
        self.ledger._post(self.member, "redeem", -50, source_ref="SALE-2")
        self.ledger._post(self.member, "expire", -50, idempotency_key="expire:test")
        self.assertEqual(self.program._post_liability(), 2)
        return self.moves()

    def test_cost_provision_worked_example(self):
        issue, redemption, expiry = self.worked_example()
        self.assertEqual((issue.klodr_liability_kind, redemption.klodr_liability_kind, expiry.klodr_liability_kind),
                         ("issue", "redemption", "expiry"))
        self.assertEqual(self.lines_of(issue), [("LP2100", 0.0, 80.0), ("LP6100", 80.0, 0.0)])
        self.assertEqual(self.lines_of(redemption), [("LP2100", 40.0, 0.0), ("LP6100", 0.0, 40.0)])
        self.assertEqual(self.lines_of(expiry), [("LP2100", 40.0, 0.0), ("LP4200", 0.0, 40.0)])
        self.assertTrue(all(m.state == "posted" and m.journal_id == self.journal for m in (issue, redemption, expiry)))
        self.assertEqual(self.account_balance(self.acc_liability), D("0.00"))
        self.assertEqual(self.account_balance(self.acc_expense), D("-40.00"))  # 80 expensed, 40 written back

    def test_deferred_revenue_worked_example(self):
        self.program.write({"liability_method": "deferred", "liability_issue_account_id": self.acc_sales.id,
                            "liability_release_account_id": self.acc_loyalty_revenue.id})
        issue, redemption, expiry = self.worked_example()
        sales = self.acc_sales.code
        self.assertEqual(self.lines_of(issue), sorted([("LP2100", 0.0, 80.0), (sales, 80.0, 0.0)]))
        self.assertEqual(self.lines_of(redemption), [("LP2100", 40.0, 0.0), ("LP4100", 0.0, 40.0)])
        self.assertEqual(self.lines_of(expiry), [("LP2100", 40.0, 0.0), ("LP4200", 0.0, 40.0)])
        self.assertEqual(self.account_balance(self.acc_liability), D("0.00"))
        self.assertEqual(self.account_balance(self.acc_loyalty_revenue) + self.account_balance(self.acc_breakage),
                         D("80.00"))

    def test_rerun_posts_nothing(self):
        self.member._earn_order(10000, order_ref="SALE-1")
        self.ledger._post(self.member, "redeem", -30)
        self.assertEqual(self.program._post_liability(), 2)
        moves = self.moves()
        self.assertEqual(self.program._post_liability(), 0)
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda cron, *a, **k: None):
            self.env["klodr.program"]._cron_post_liability()
        self.assertEqual(self.moves(), moves)
        postings = self.env["klodr.ledger.posting"].search([("program_id", "=", self.program.id)])
        self.assertEqual(len(postings), 2)
        self.assertEqual(len(set(postings.entry_id.ids)), 2)

    def test_interrupted_run_resumes(self):
        for number in range(7):
            self.member._earn_order(1000, order_ref=f"S{number}")
        calls = []

        def progress(done, remaining=None):
            calls.append(done)
            return 0  # time is up after the first batch

        self.assertEqual(self.program._post_liability(batch_size=3, progress=progress), 3)
        self.assertEqual(calls, [3])
        self.assertEqual(self.program._post_liability(batch_size=3), 4)
        self.assertEqual(self.program._post_liability(batch_size=3), 0)
        # 70 points × 0.8, in two journal entries, to the paisa
        self.assertEqual(self.account_balance(self.acc_liability), D("56.00"))
        self.assertEqual(len(self.moves()), 3)  # a day's issue split where the run stopped

    def test_second_run_at_once_posts_nothing(self):
        self.member._earn_order(1000, order_ref="S1")
        other = db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SELECT pg_advisory_xact_lock(71501, %s)", [self.program.id])
            self.assertEqual(self.program._post_liability(), 0)
        finally:
            other.rollback()
            other.close()
        self.assertEqual(self.program._post_liability(), 1)

    def test_ledger_stays_untouched(self):
        entry = self.member._earn_order(1000, order_ref="S1").entry_ids
        hashes = entry.entry_hash
        self.program._post_liability()
        posting = self.env["klodr.ledger.posting"].search([("entry_id", "=", entry.id)])
        self.assertEqual(posting.kind, "issue")
        self.assertTrue(posting.move_id)
        entry.invalidate_recordset()
        self.assertEqual(entry.entry_hash, hashes)
        self.assertEqual(self.ledger._verify_ledger(program_ids=self.program.ids), [])

    def test_reconciliation_after_1000_random_operations(self):
        """Points outstanding × value equals the liability account to the paisa."""
        self.program.write({"liability_point_value": 0.3333, "liability_redemption_rate": 77.0,
                            "min_redeem_balance": 0})
        rng = random.Random(7)
        members = [self.member, self.member_inter] + [
            self.env["klodr.member"].create({"name": f"R{i}", "program_id": self.program.id,
                                             "mobile": f"+91 98450 3000{i}"}) for i in range(3)]
        members = [member.sudo() for member in members]
        ledger = self.ledger.sudo()
        balances = dict.fromkeys(members, 0)
        now = fields.Datetime.now()
        started = time.monotonic()
        for op in range(1000):
            member = rng.choice(members)
            when = now - timedelta(days=rng.randint(0, 2), hours=rng.randint(0, 23))
            kind = rng.choice(["earn", "earn", "bonus", "redeem", "expire", "refund", "reversal", "adjust"])
            if kind in ("earn", "bonus", "reversal"):
                points = rng.randint(1, 500)
            elif kind in ("redeem", "expire"):
                if balances[member] <= 0:
                    continue
                points = -rng.randint(1, balances[member])
            elif kind == "refund":
                points = -rng.randint(1, 100)
            else:
                points = rng.choice([-1, 1]) * rng.randint(1, 50)
                if points < 0 and balances[member] + points < 0:
                    points = -points
            ledger._post(member, kind, points, date=when)
            balances[member] += points
            if op == 500:
                self.program._post_liability(batch_size=300)  # a run that stops and resumes
        self.program._post_liability()
        _logger.info("1000 random ledger operations and their posting in %.1f s", time.monotonic() - started)
        report = self.env["klodr.liability.report"].create({
            "company_id": self.company.id, "program_ids": [(6, 0, self.program.ids)],
            "date_from": fields.Date.today() - timedelta(days=10), "date_to": fields.Date.today() + timedelta(days=1)})
        line = report.account_line_ids
        self.assertEqual(line.points, sum(balances.values()))
        self.assertEqual(line.unposted_points, 0)
        self.assertEqual(D(str(line.difference)).quantize(D("0.01")), D("0.00"))
        self.assertEqual(D(str(line.balance)).quantize(D("0.01")),
                         (sum(balances.values()) * D("0.3333") * D("0.77")).quantize(D("0.01")))
        ageing_total = sum(report.ageing_line_ids.mapped("amount"))
        self.assertAlmostEqual(ageing_total, line.expected, places=2)
        self.assertEqual(sum(report.ageing_line_ids.mapped("points")), line.points)
        schedule = report.schedule_line_ids
        self.assertEqual(schedule.opening, 0)
        self.assertEqual(schedule.closing, line.points)
        self.assertEqual(self.ledger._verify_ledger(program_ids=self.program.ids), [])

    def test_report_before_posting_shows_difference_and_exports(self):
        self.member._earn_order(10000, order_ref="SALE-1")
        today = fields.Date.today()
        report = self.env["klodr.liability.report"].create({
            "company_id": self.company.id, "date_from": today.replace(day=1), "date_to": today + timedelta(days=1)})
        line = report.account_line_ids.filtered(lambda ln: self.program in ln.program_ids)
        self.assertEqual((line.points, line.unposted_points, line.expected, line.balance, line.difference),
                         (100, 100, 80.0, 0.0, -80.0))
        self.program.action_post_liability()
        report.action_compute()
        line = report.account_line_ids.filtered(lambda ln: self.program in ln.program_ids)
        self.assertEqual((line.unposted_points, line.balance, line.difference), (0, 80.0, 0.0))
        schedule = report.schedule_line_ids.filtered(lambda ln: ln.program_id == self.program)
        self.assertEqual((schedule.opening, schedule.issued, schedule.closing), (0, 100, 100))
        entries = line.action_open_entries()
        self.assertEqual(self.env["klodr.ledger.entry"].search(entries["domain"]).mapped("points"), [100])
        items = self.env["account.move.line"].search(line.action_open_items()["domain"])
        self.assertEqual(sum(items.mapped("credit")), 80.0)
        # XLSX: a real workbook with the three sheets
        content = report._xlsx_content()
        with zipfile.ZipFile(io.BytesIO(content)) as workbook:
            names = workbook.namelist()
            self.assertIn("xl/worksheets/sheet3.xml", names)
            shared = workbook.read("xl/sharedStrings.xml").decode()
            sheets = workbook.read("xl/workbook.xml").decode()
        self.assertIn("Points movement", sheets)
        self.assertIn("LP2100", shared)
        action = report.action_export_xlsx()
        self.assertIn("download=true", action["url"])
        self.assertTrue(report.xlsx_file)
