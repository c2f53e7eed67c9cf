import io
from contextlib import redirect_stdout

from odoo.tests import tagged

from .common import KlodrCommon


@tagged("post_install", "-at_install")
class TestVerify(KlodrCommon):
    def setUp(self):
        super().setUp()
        self.post(self.member, "earn", 200)
        self.middle = self.post(self.member, "redeem", -50)
        self.last = self.post(self.member, "bonus", 25)
        self.post(self.member_2, "earn", 80)

    def tamper(self, query, *params):
        """Run ``query`` with the append-only triggers off, as an attacker with DDL rights would."""
        cr = self.env.cr
        cr.execute("ALTER TABLE klodr_ledger_entry DISABLE TRIGGER klodr_ledger_append_only")
        cr.execute("ALTER TABLE klodr_ledger_allocation DISABLE TRIGGER klodr_ledger_append_only")
        cr.execute(query, params)
        cr.execute("ALTER TABLE klodr_ledger_entry ENABLE TRIGGER klodr_ledger_append_only")
        cr.execute("ALTER TABLE klodr_ledger_allocation ENABLE TRIGGER klodr_ledger_append_only")
        self.env.invalidate_all()

    def breaks(self):
        return self.ledger._verify_ledger(program_ids=self.program.ids)

    def test_clean_ledger_verifies(self):
        self.assertEqual(self.breaks(), [])

    def test_altered_points_are_named(self):
        self.tamper("UPDATE klodr_ledger_entry SET points = -5 WHERE id = %s", self.middle.id)
        found = {(b.kind, b.record_id) for b in self.breaks()}
        self.assertIn(("hash", self.middle.id), found)
        self.assertIn(("balance", self.member.id), found)

    def test_altered_reference_breaks_only_the_hash(self):
        self.tamper("UPDATE klodr_ledger_entry SET source_ref = 'FORGED' WHERE id = %s", self.middle.id)
        self.assertEqual([(b.kind, b.record_id) for b in self.breaks()], [("hash", self.middle.id)])

    def test_removed_entry_breaks_the_chain(self):
        self.tamper("DELETE FROM klodr_ledger_allocation WHERE debit_entry_id = %s", self.middle.id)
        self.tamper("DELETE FROM klodr_ledger_entry WHERE id = %s", self.middle.id)
        found = {(b.kind, b.record_id) for b in self.breaks()}
        self.assertIn(("chain", self.last.id), found)
        self.assertIn(("balance", self.member.id), found)

    def test_removed_last_entry_breaks_the_head(self):
        self.tamper("DELETE FROM klodr_ledger_entry WHERE id = %s", self.last.id)
        self.assertIn(("chain_head", self.member.id), {(b.kind, b.record_id) for b in self.breaks()})

    def test_cached_balance_drift_is_named(self):
        self.env.cr.execute("UPDATE klodr_member SET balance = balance + 1000 WHERE id = %s", [self.member.id])
        self.assertEqual([(b.kind, b.record_id) for b in self.breaks()], [("balance", self.member.id)])

    def test_over_allocated_lot_is_named(self):
        lot = self.middle.allocation_ids.lot_entry_id
        self.tamper("UPDATE klodr_ledger_allocation SET points = 500 WHERE debit_entry_id = %s", self.middle.id)
        found = {(b.kind, b.record_id) for b in self.breaks()}
        self.assertIn(("lot", lot.id), found)
        self.assertIn(("debit", self.middle.id), found)

    def test_program_button_reports(self):
        self.assertEqual(self.program.action_verify_ledger()["params"]["type"], "success")
        self.tamper("UPDATE klodr_ledger_entry SET points = -5 WHERE id = %s", self.middle.id)
        result = self.program.action_verify_ledger()["params"]
        self.assertEqual(result["type"], "danger")
        self.assertIn(str(self.middle.id), result["message"])

    def test_cli_verify_exit_code(self):
        from odoo.cli.command import find_command  # noqa: PLC0415

        command = find_command("klodr")()
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(command._verify(self.env, ["--program", str(self.program.id)]), 0)
        self.assertIn("OK", out.getvalue())
        self.tamper("UPDATE klodr_ledger_entry SET points = -5 WHERE id = %s", self.middle.id)
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(command._verify(self.env, ["--program", str(self.program.id)]), 1)
        self.assertIn(f"klodr.ledger.entry {self.middle.id}", out.getvalue())
