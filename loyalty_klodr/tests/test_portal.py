import re
from datetime import timedelta
from urllib.parse import urlparse

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.loyalty_klodr.tools import checkin

from .common import KlodrRulesCommon

# A 1x1 PNG: what a phone's camera would send, only smaller.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@tagged("post_install", "-at_install")
class TestPortal(HttpCase, KlodrRulesCommon):
    """/my/loyalty shows a member their own points, and nobody else's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_priya = new_test_user(cls.env, login="klodr_portal_priya", groups="base.group_portal",
                                         name="Priya Portal")
        cls.portal_arjun = new_test_user(cls.env, login="klodr_portal_arjun", groups="base.group_portal",
                                         name="Arjun Portal")
        cls.member.partner_id = cls.portal_priya.partner_id
        cls.member_2.partner_id = cls.portal_arjun.partner_id
        cls.ledger._post(cls.member, "earn", 1200, source_ref="PRIYA-INV-1", store=cls.store_a)
        cls.ledger._post(cls.member_2, "earn", 700, source_ref="ARJUN-INV-1")
        (cls.member | cls.member_2)._recompute_tier()
        Reward = cls.env["klodr.reward"]
        cls.tea = Reward.create({"name": "Masala Tea", "program_id": cls.program.id, "points_cost": 200,
                                 "reward_type": "discount_fixed", "value": 50})
        cls.lounge = Reward.create({"name": "Lounge Pass", "program_id": cls.program.id, "points_cost": 5000,
                                    "reward_type": "discount_fixed", "value": 900})
        cls.gold_gift = Reward.create({"name": "Gold Gift", "program_id": cls.program.id, "points_cost": 100,
                                       "reward_type": "discount_fixed", "value": 20, "min_tier_id": cls.gold.id})

    def get(self, url, **kwargs):
        return self.url_open(url, allow_redirects=False, **kwargs)

    def csrf(self, html):
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    # ------------------------------------------------------------------
    def test_public_is_sent_to_log_in(self):
        for url in ("/my/loyalty", f"/my/loyalty?member={self.member.id}", "/my/loyalty/export",
                    f"/my/loyalty/statement?member={self.member.id}", "/my/loyalty/checkin?store=1&day=x&sig=y"):
            with self.subTest(url=url):
                response = self.get(url)
                self.assertIn(response.status_code, (302, 303))
                self.assertTrue(urlparse(response.headers["Location"]).path.startswith("/web/login"))
                self.assertNotIn("PRIYA-INV-1", response.text)

    def test_member_sees_own_page(self):
        self.authenticate("klodr_portal_priya", "klodr_portal_priya")
        response = self.get("/my/loyalty")
        self.assertEqual(response.status_code, 200)
        html = response.text
        for text in (self.member.code, "PRIYA-INV-1", "1,200", "Masala Tea", "Within reach", self.member.referral_code,
                     f"/loyalty/join/{self.member.referral_code}", "Silver", "wa.me"):
            self.assertIn(text, html)
        self.assertIn("3,800", html, "the lounge pass is 3,800 points away")
        self.assertIn("reserved for members of tier Gold", html, "the gold gift: not a matter of points")
        for text in ("ARJUN-INV-1", self.member_2.code, self.member_2.mobile):
            self.assertNotIn(text, html)
        # The card on /my counts the memberships.
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["klodr_member_count"]})
        self.assertEqual(counters["klodr_member_count"], 1)

    def test_other_members_are_not_found(self):
        self.authenticate("klodr_portal_priya", "klodr_portal_priya")
        for url in (f"/my/loyalty?member={self.member_2.id}", f"/my/loyalty/export?member={self.member_2.id}",
                    f"/my/loyalty/statement?member={self.member_2.id}", "/my/loyalty?member=abc",
                    f"/klodr/member/{self.member_2.id}/export", f"/klodr/member/{self.member.id}/export"):
            with self.subTest(url=url):
                response = self.get(url)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("ARJUN-INV-1", response.text)
        own = self.get(f"/my/loyalty/export?member={self.member.id}").json()
        self.assertEqual(own["member"]["code"], self.member.code)
        self.assertEqual(self.get(f"/my/loyalty/statement?member={self.member.id}").status_code, 200)
        # A portal user without a membership has no loyalty page.
        new_test_user(self.env, login="klodr_portal_nobody", groups="base.group_portal")
        self.authenticate("klodr_portal_nobody", "klodr_portal_nobody")
        self.assertEqual(self.get("/my/loyalty").status_code, 404)

    def test_record_rules_keep_portal_users_to_their_own(self):
        Member = self.env["klodr.member"].with_user(self.portal_priya)
        self.assertEqual(Member.search([]), self.member)
        with self.assertRaises(AccessError):
            self.member_2.with_user(self.portal_priya).read(["balance"])
        entries = self.env["klodr.ledger.entry"].with_user(self.portal_priya).search([])
        self.assertEqual(entries.member_id, self.member)
        with self.assertRaises(AccessError):
            self.member.with_user(self.portal_priya).write({"name": "Hacked"})
        with self.assertRaises(AccessError):
            self.env["klodr.claim"].with_user(self.portal_priya).search([])

    def test_checkin_by_store_qr_code(self):
        today = self.member._local_today(self.program)
        url = urlparse(self.store_a._checkin_url(today))
        self.assertEqual(url.path, "/my/loyalty/checkin")
        self.authenticate("klodr_portal_priya", "klodr_portal_priya")
        page = self.get(f"{url.path}?{url.query}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Store A", page.text)
        balance = self.member.balance
        params = dict(part.split("=", 1) for part in url.query.split("&"))
        done = self.url_open(url.path, data=dict(params, csrf_token=self.csrf(page.text)))
        self.assertIn("o_klodr_checkin_done", done.text)
        self.member.invalidate_recordset(["balance"])
        self.assertEqual(self.member.balance, balance + 20)
        entry = self.member.entry_ids.sorted("id")[-1]
        self.assertEqual((entry.store_id, entry.user_id), (self.store_a, self.portal_priya))
        again = self.url_open(url.path, data=dict(params, csrf_token=self.csrf(page.text)))
        self.assertIn("already checked in here today", again.text)
        # Another store the same day: the check-in rule allows one a day.
        other = urlparse(self.store_b._checkin_url(today))
        other_params = dict(part.split("=", 1) for part in other.query.split("&"))
        capped = self.url_open(other.path, data=dict(other_params, csrf_token=self.csrf(page.text)))
        self.assertIn("You have already checked in today.", capped.text)
        self.member.invalidate_recordset(["balance"])
        self.assertEqual(self.member.balance, balance + 20)

    def test_stale_and_forged_codes_are_refused(self):
        today = self.member._local_today(self.program)
        secret = self.store_a._checkin_secret()
        self.authenticate("klodr_portal_priya", "klodr_portal_priya")
        token = self.csrf(self.get("/my/loyalty").text)
        yesterday = checkin.query(secret, self.store_a.id, today - timedelta(days=1))
        forged = dict(checkin.query(secret, self.store_a.id, today), store=str(self.store_b.id))
        for params, message in ((yesterday, "another day"), (forged, "not valid"),
                                ({"store": "x", "day": "y", "sig": "z"}, "not valid")):
            with self.subTest(params=params):
                response = self.url_open("/my/loyalty/checkin", data=dict(params, csrf_token=token))
                self.assertIn(message, response.text)
        self.member.invalidate_recordset(["balance"])
        self.assertEqual(self.member.balance, 1200)

    def test_receipt_claim_upload(self):
        self.authenticate("klodr_portal_priya", "klodr_portal_priya")
        token = self.csrf(self.get("/my/loyalty").text)
        today = self.member._local_today(self.program).isoformat()
        form = {"csrf_token": token, "member": str(self.member.id), "receipt_ref": "bill-77", "amount": "1499.50",
                "receipt_date": today, "store_id": str(self.store_b.id), "note": "Paid in cash"}
        response = self.url_open("/my/loyalty/claim", data=form, files={"receipt_file": ("bill.png", PNG, "image/png")})
        self.assertEqual(response.status_code, 200)
        claim = self.env["klodr.claim"].search([("member_id", "=", self.member.id)])
        self.assertEqual((claim.receipt_ref, claim.amount, claim.state, claim.channel, claim.store_id),
                         ("BILL-77", 1499.5, "submitted", "portal", self.store_b))
        self.assertEqual(claim.submitted_by_id, self.portal_priya)
        self.assertEqual(claim.rule_id, self.rule_base)
        self.assertTrue(claim.receipt_file)
        self.assertIn("BILL-77", response.text)
        # The same receipt again, a text file, and someone else's membership are refused.
        again = self.url_open("/my/loyalty/claim", data=form, files={"receipt_file": ("bill.png", PNG, "image/png")})
        self.assertIn("already sent this receipt", again.text)
        text = self.url_open("/my/loyalty/claim", data=dict(form, receipt_ref="bill-78"),
                             files={"receipt_file": ("bill.txt", b"just text", "text/plain")})
        self.assertIn("o_klodr_claim_error", text.text)
        other = self.url_open("/my/loyalty/claim", data=dict(form, member=str(self.member_2.id), receipt_ref="b-9"),
                              files={"receipt_file": ("bill.png", PNG, "image/png")})
        self.assertEqual(other.status_code, 404)
        self.assertEqual(self.env["klodr.claim"].search_count([("receipt_ref", "in", ["BILL-78", "B-9"])]), 0)

    def test_referral_link_is_public_and_discreet(self):
        response = self.get(f"/loyalty/join/{self.member.referral_code}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.member.referral_code, response.text)
        self.assertIn(self.program.name, response.text)
        self.assertNotIn(self.member.name, response.text)
        self.assertIn("not valid", self.get("/loyalty/join/NOSUCHCODE").text)

    def test_store_qr_page_for_staff(self):
        self.authenticate("klodr_cashier", "klodr_cashier")
        response = self.get(f"/klodr/store/{self.store_a.id}/checkin-qr")
        self.assertEqual(response.status_code, 200)
        self.assertIn("/report/barcode/?barcode_type=QR", response.text)
        self.authenticate("klodr_portal_priya", "klodr_portal_priya")
        self.assertEqual(self.get(f"/klodr/store/{self.store_a.id}/checkin-qr").status_code, 404)
