import json
from datetime import date, datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError
from odoo.addons.loyalty_klodr.tools import privacy

from .common import KlodrCommon


def test_scrub_replaces_raw_and_json_escaped_secrets():
    text = json.dumps({"name": "Zoë Rao", "mobile": "+919845000001", "note": "call +919845000001"})
    scrubbed = privacy.scrub(text, ["Zoë Rao", "+919845000001", "", None])
    assert "Zo" not in scrubbed and "9845000001" not in scrubbed
    assert json.loads(scrubbed) == {"name": "[erased]", "mobile": "[erased]", "note": "call [erased]"}
    assert privacy.scrub("Priya Sharma", ["Priya", "Priya Sharma"]) == "[erased]"
    assert privacy.scrub(None, ["x"]) is None
    assert privacy.pseudonyms(7, "KL07") == {"name": "ERASED KL07", "mobile": "erased:7"}


@tagged("post_install", "-at_install")
class TestConsent(KlodrCommon):
    def test_enrolment_records_each_purpose(self):
        member = self.env["klodr.member"].create({
            "name": "Consenting", "program_id": self.program.id, "mobile": "98450 00077", "consent_sms_promo": True})
        log = {c.purpose: c for c in member.consent_ids}
        self.assertEqual(set(log), {"membership", "sms_promo"})
        self.assertTrue(log["membership"].granted and log["sms_promo"].granted)
        self.assertEqual(log["sms_promo"].date, member.consent_sms_promo_date)
        self.assertEqual(log["sms_promo"].channel, "backend")

    def test_withdrawal_is_logged_with_its_channel(self):
        before = len(self.member.consent_ids)
        self.member.with_context(klodr_consent_channel="pos").consent_sms_promo = True
        self.member.consent_sms_promo = True  # unchanged: nothing to record
        self.member.with_context(klodr_consent_channel="sms").consent_sms_promo = False
        new = self.member.consent_ids.sorted("id")[before:]
        self.assertEqual([(c.purpose, c.granted, c.channel) for c in new],
                         [("sms_promo", True, "pos"), ("sms_promo", False, "sms")])
        self.assertEqual(new[-1].user_id, self.env.user)
        with self.assertRaises(UserError):
            new[-1].granted = True
        with self.assertRaises(UserError):
            new[-1].unlink()


@tagged("post_install", "-at_install")
class TestErase(KlodrCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Priya Test", "email": "priya@example.com"})
        cls.member.write({"partner_id": cls.partner.id, "email": "priya@example.com",
                          "birthday": date(1990, 3, 10), "anniversary": date(2015, 11, 2),
                          "consent_sms_promo": True})
        post = cls.env["klodr.ledger.entry"]._post
        post(cls.member, "earn", 500, date=datetime(2026, 1, 10, 6, 0), store=cls.store_a, source_ref="INV-1")
        post(cls.member, "redeem", -120, date=datetime(2026, 2, 10, 6, 0), source_ref="POS-7")
        post(cls.member, "adjust", 15, source_ref="Adjustment", description="Goodwill")
        post(cls.member_2, "earn", 300, source_ref="INV-2")

    def snapshot(self):
        self.env.invalidate_all()
        return [(e.id, e.entry_hash, e.prev_hash, e.points, e.balance_after) for e in self.member.entry_ids]

    def test_erase_pseudonymises_and_keeps_the_ledger_whole(self):
        mobile = self.member.mobile
        entries, balance = self.snapshot(), self.member.balance
        self.member.with_user(self.user_manager).action_erase()
        member = self.member
        self.assertEqual(member.state, "erased")
        self.assertEqual((member.name, member.mobile), (f"ERASED {member.code}", f"erased:{member.id}"))
        self.assertFalse(member.email or member.birthday or member.anniversary or member.partner_id)
        self.assertFalse(member.consent_membership or member.consent_sms_promo)
        self.assertTrue(member.erased_date)
        self.assertEqual(member.consent_ids.sorted("id")[-2:].mapped("channel"), ["erasure", "erasure"])
        self.assertTrue(self.partner.exists(), "the contact is detached, not deleted")
        # The ledger: the same entries, hashes and balance; verify finds nothing wrong.
        self.assertEqual(self.snapshot(), entries)
        self.assertEqual(member.balance, balance)
        self.assertLedgerWhole()
        # Nothing of the old identity is left in the member's chatter (tracking kept old values).
        messages = self.env["mail.message"].search([("model", "=", "klodr.member"), ("res_id", "=", member.id)])
        texts = " ".join(str(m.body) for m in messages) + " ".join(
            f"{t.old_value_char} {t.new_value_char}" for t in messages.tracking_value_ids)
        for secret in (mobile, "priya@example.com", "Priya Test"):
            self.assertNotIn(secret, texts)
        self.assertEqual(len(messages), 1, "one note: the erasure")
        # An erased member earns no more, and stays erased.
        with self.assertRaises(LoyaltyError):
            self.ledger._post(member, "earn", 10)
        with self.assertRaises(UserError):
            member.state = "active"
        self.assertFalse(member._erase_personal_data(), "a second erasure has nothing to do")
        # The number is free for a new membership.
        again = self.env["klodr.member"].create({"name": "Back", "program_id": self.program.id, "mobile": mobile})
        self.assertEqual(again.mobile, mobile)

    def test_statement_still_adds_up_after_erasure(self):
        self.member.action_erase()
        statement = self.env["report.loyalty_klodr.report_member_statement"]._statement_values(self.member)
        self.assertEqual(statement["closing_balance"], self.member.balance)
        self.assertEqual(statement["opening_balance"] + sum(line["points"] for line in statement["lines"]),
                         statement["closing_balance"])

    def test_copies_of_personal_data_are_scrubbed(self):
        claim_rule = self.env["klodr.earn.rule"].create(
            {"name": "Receipts", "program_id": self.program.id, "kind": "amount", "points": 1, "spend_unit": 10})
        claim = self.env["klodr.claim"].create({
            "member_id": self.member.id, "rule_id": claim_rule.id, "amount": 100, "receipt_ref": "R-1",
            "receipt_file": b"cmVjZWlwdA==", "receipt_filename": "receipt.jpg", "note": "Bought by Priya Test"})
        webhook = self.env["klodr.webhook"].create({
            "name": "Hook", "url": "http://127.0.0.1:9/hook", "company_id": self.company.id,
            "event_ids": [(6, 0, self.env.ref("loyalty_klodr.webhook_event_member_enrolled").ids)]})
        data = self.member._klodr_webhook_data("member.enrolled", {})
        delivery = self.env["klodr.webhook"]._enqueue(
            "member.enrolled", self.program, data, member=self.member, webhooks=webhook)
        stored = self.env["klodr.api.idempotency"].sudo().create({
            "company_id": self.company.id, "key": "enroll-1", "fingerprint": "x", "status_code": 201,
            "response_body": json.dumps({"mobile": self.member.mobile, "name": self.member.name})})
        mobile = self.member.mobile
        self.assertIn(mobile, delivery.payload)
        self.member.action_erase()
        self.env.invalidate_all()
        self.assertFalse(claim.receipt_file or claim.note)
        self.assertEqual(claim.state, "submitted")
        for text in (delivery.payload, stored.response_body):
            self.assertNotIn(mobile, text)
            self.assertNotIn("Priya Test", text)
        self.assertEqual(json.loads(delivery.payload)["data"]["member"]["id"], self.member.id)

    def test_only_managers_erase(self):
        with self.assertRaises(AccessError):
            self.member.with_user(self.user_cashier).action_erase()
        with self.assertRaises(AccessError):
            self.member.with_user(self.user_auditor).action_erase()
        with self.assertRaises(UserError):
            self.member.state = "erased"
        self.assertEqual(self.member.state, "active")

    def test_export_holds_everything(self):
        data = self.member._export_personal_data()
        self.assertEqual(data["member"]["mobile"], self.member.mobile)
        self.assertEqual(data["member"]["birthday"], "1990-03-10")
        self.assertEqual([e["points"] for e in data["ledger"]], [500, -120, 15])
        self.assertEqual(data["ledger"][-1]["balance_after"], self.member.balance)
        self.assertEqual({c["purpose"] for c in data["consents"]["history"]}, {"membership", "sms_promo"})
        self.assertTrue(data["consents"]["current"]["sms_promo"]["granted"])
        json.dumps(data)  # JSON-ready


@tagged("post_install", "-at_install")
class TestExportRoute(HttpCase, KlodrCommon):
    def test_staff_download_and_other_company_refused(self):
        self.ledger._post(self.member, "earn", 42, source_ref="INV-42")
        self.authenticate("klodr_manager", "klodr_manager")
        response = self.url_open(f"/klodr/member/{self.member.id}/export")
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        data = response.json()
        self.assertEqual(data["member"]["code"], self.member.code)
        self.assertEqual(data["ledger"][0]["reference"], "INV-42")
        self.authenticate("klodr_other_manager", "klodr_other_manager")
        response = self.url_open(f"/klodr/member/{self.member.id}/export")
        self.assertIn(response.status_code, (403, 404))
        self.assertNotIn(self.member.mobile, response.text)
