import re

from odoo.tests import tagged

from .common import KlodrSmsCommon


@tagged("post_install", "-at_install")
class TestHindi(KlodrSmsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("hi_IN")
        cls.env["ir.module.module"]._load_module_terms(["loyalty_klodr_sms"], ["hi_IN"], overwrite=True)
        cls.member.sms_lang = "hi_IN"

    def test_hindi_template_rendered(self):
        sms = self.member._klodr_notify("earned", points=120)
        self.assertTrue(re.search("[\u0900-\u097f]", sms.body), sms.body)
        self.assertIn("120", sms.body)
        self.assertTrue(sms.body.endswith("-KLODR"))
        self.assertEqual(sms.body, "Klodr Rewards में आपने 120 अंक अर्जित किए। शेष: 0 अंक। -KLODR")

    def test_hindi_otp(self):
        body = self.template_otp._klodr_render(self.member, self.member._klodr_sms_values(
            "otp", {"code": "048213", "minutes": 5}, "hi_IN"), "hi_IN")
        self.assertEqual(body, "आपका Klodr Rewards OTP 048213 है। 5 मिनट तक मान्य। इसे किसी से साझा न करें। -KLODR")

    def test_language_falls_back(self):
        self.assertEqual(self.member._klodr_sms_lang(), "hi_IN")
        self.member_2.partner_id = self.env["res.partner"].create({"name": "Arjun", "lang": "hi_IN"})
        self.assertEqual(self.member_2._klodr_sms_lang(), "hi_IN", "the contact's language")
        self.member_2.partner_id = False
        self.assertEqual(self.member_2._klodr_sms_lang(), self.company.partner_id.lang or "en_US")
        english = self.member_2._klodr_notify("earned", points=5)
        self.assertTrue(english.body.startswith("You earned 5 points"))
