from datetime import date, datetime

from odoo.tests import tagged

from .common import KlodrCommon

REPORT = "loyalty_klodr.report_member_statement"


@tagged("post_install", "-at_install")
class TestStatement(KlodrCommon):
    """The points statement shows the ledger's own numbers for the period asked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.tz = "Asia/Kolkata"
        member, post = cls.member, cls.env["klodr.ledger.entry"]._post
        post(member, "earn", 500, date=datetime(2026, 1, 10, 6, 0), store=cls.store_a, source_ref="JAN-1")
        post(member, "bonus", 100, date=datetime(2026, 2, 14, 6, 0), source_ref="FEB-BONUS")
        # 20:00 UTC on 31 March is 01:30 on 1 April in Kolkata: an April entry.
        post(member, "earn", 250, date=datetime(2026, 3, 31, 20, 0), store=cls.store_b, source_ref="APR-1")
        post(member, "redeem", -300, date=datetime(2026, 4, 12, 6, 0), store=cls.store_a, source_ref="APR-RDM")
        post(member, "adjust", -20, date=datetime(2026, 4, 20, 6, 0), source_ref="APR-ADJ",
             description="Duplicate scan")
        post(member, "earn", 80, date=datetime(2026, 6, 2, 6, 0), store=cls.store_b, source_ref="JUN-1")
        post(cls.member_2, "earn", 999, date=datetime(2026, 4, 5, 6, 0), source_ref="OTHER-MEMBER")
        cls.Report = cls.env["report.loyalty_klodr.report_member_statement"]

    def ledger_sum(self, before=None, upto=None):
        entries = self.member.entry_ids.filtered(
            lambda e: (before is None or e.date < before) and (upto is None or e.date <= upto))
        return sum(entries.mapped("points"))

    def test_numbers_equal_the_ledger(self):
        values = self.Report._statement_values(self.member, date(2026, 4, 1), date(2026, 4, 30))
        # Kolkata's April: 31 March 18:30 UTC up to 30 April 18:29:59 UTC.
        start, end = datetime(2026, 3, 31, 18, 30), datetime(2026, 4, 30, 18, 29, 59)
        self.assertEqual(values["opening_balance"], self.ledger_sum(before=start))
        self.assertEqual(values["opening_balance"], 600)
        self.assertEqual(values["closing_balance"], self.ledger_sum(upto=end))
        self.assertEqual([line["reference"] for line in values["lines"]], ["APR-1", "APR-RDM", "APR-ADJ"])
        running = values["opening_balance"]
        in_period = self.member.entry_ids.filtered(lambda e: start <= e.date <= end).sorted("id")
        for line, entry in zip(values["lines"], in_period, strict=True):
            running += line["points"]
            self.assertEqual(line["points"], entry.points)
            self.assertEqual(line["balance"], running)
            self.assertEqual(line["balance"], entry.balance_after)
            self.assertEqual(line["expiry_date"], entry.expiry_date)
            self.assertEqual(line["store"], entry.store_id.name or "")
        self.assertEqual(values["closing_balance"], running)
        self.assertEqual((values["credits"], values["debits"]), (250, -320))
        self.assertEqual(values["lines"][0]["expiry_date"], date(2027, 4, 1))
        self.assertEqual(values["lines"][1]["type"], "Redeem")

    def test_whole_history_and_open_periods(self):
        whole = self.Report._statement_values(self.member)
        self.assertEqual(whole["opening_balance"], 0)
        self.assertEqual(whole["closing_balance"], self.member.balance)
        self.assertEqual(len(whole["lines"]), len(self.member.entry_ids))
        since_may = self.Report._statement_values(self.member, date(2026, 5, 1), None)
        self.assertEqual(since_may["opening_balance"], 530)
        self.assertEqual(since_may["closing_balance"], self.member.balance)
        empty = self.Report._statement_values(self.member, date(2026, 5, 1), date(2026, 5, 31))
        self.assertEqual((empty["opening_balance"], empty["closing_balance"], empty["lines"]), (530, 530, []))

    def test_rendered_statement_shows_the_period(self):
        html = self.env["ir.actions.report"]._render_qweb_html(
            REPORT, self.member.ids, data={"date_from": "2026-04-01", "date_to": "2026-04-30"})[0].decode()
        for text in ("APR-1", "APR-RDM", "APR-ADJ", "Duplicate scan", self.member.code, "Opening balance",
                     "Closing balance", "Store B", "600", "530"):
            self.assertIn(text, html)
        for text in ("JAN-1", "JUN-1", "OTHER-MEMBER"):
            self.assertNotIn(text, html)

    def test_cashier_prints_from_the_wizard(self):
        wizard = self.env["klodr.statement.wizard"].with_user(self.user_cashier).with_context(
            active_id=self.member.id).create({"member_id": self.member.id})
        self.assertTrue(wizard.date_from and wizard.date_to)
        wizard.write({"date_from": date(2026, 4, 1), "date_to": date(2026, 4, 30)})
        action = wizard.action_print()
        self.assertEqual(action["report_name"], REPORT)
        self.assertEqual(action["data"], {"date_from": "2026-04-01", "date_to": "2026-04-30"})
        html = self.env["ir.actions.report"].with_user(self.user_cashier)._render_qweb_html(
            REPORT, self.member.ids, data=action["data"])[0].decode()
        self.assertIn("APR-RDM", html)

    def test_other_company_cannot_print(self):
        with self.assertRaises(Exception):  # noqa: B017 - AccessError or its wrapping by the report
            self.env["ir.actions.report"].with_user(self.other_manager)._render_qweb_html(
                REPORT, self.member.ids, data={})

    def test_send_by_email_attaches_the_period(self):
        self.member.email = "priya@example.com"
        wizard = self.env["klodr.statement.wizard"].with_user(self.user_cashier).create(
            {"member_id": self.member.id, "date_from": date(2026, 4, 1), "date_to": date(2026, 4, 30)})
        action = wizard.action_send()
        self.assertEqual(action["res_model"], "mail.compose.message")
        composer = self.env["mail.compose.message"].with_user(self.user_cashier).with_context(
            **action["context"]).create({})
        self.assertEqual(composer.template_id, self.env.ref("loyalty_klodr.mail_template_member_statement"))
        self.assertIn(self.program.name, composer.subject)
        attachment = composer.attachment_ids
        self.assertEqual(len(attachment), 1)
        # Tests render reports as HTML (".html") unless forced to run the PDF engine.
        self.assertTrue(attachment.name.startswith(f"Points Statement - {self.member.code}."))
        content = attachment.raw.decode()
        self.assertIn("APR-RDM", content)
        self.assertNotIn("JUN-1", content)
        composer._action_send_mail()
        message = self.member.message_ids[0]
        self.assertEqual(message.attachment_ids.name, attachment.name)
        self.assertEqual(message.partner_ids.mapped("email"), ["priya@example.com"])

    def test_pdf(self):
        pdf, kind = self.env["ir.actions.report"].with_context(force_report_rendering=True)._render_qweb_pdf(
            REPORT, self.member.ids, data={"date_from": "2026-04-01", "date_to": "2026-04-30"})
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))

    def test_send_needs_an_email(self):
        wizard = self.env["klodr.statement.wizard"].create({"member_id": self.member.id, "date_to": date(2026, 4, 30)})
        with self.assertRaises(Exception):  # noqa: B017
            wizard.action_send()
