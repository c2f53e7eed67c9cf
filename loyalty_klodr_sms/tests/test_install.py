from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.env["klodr.program"].create({"name": "SMS Test Program"})
        cls.member = cls.env["klodr.member"].create(
            {
                "name": "Asha Rao",
                "program_id": cls.program.id,
                "mobile": "+91 98450 12345",
            }
        )

    def test_module_and_dependencies_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "loyalty_klodr_sms")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(set(module.dependencies_id.mapped("name")), {"loyalty_klodr", "sms"})
        self.assertEqual(set(module.dependencies_id.mapped("state")), {"installed"})

    def test_sms_queued_for_member_mobile(self):
        self.assertEqual(self.member.mobile, "+919845012345", "members keep their mobile in E.164")
        sms = self.env["sms.sms"].create(
            {
                "number": self.member.mobile,
                "body": "Welcome to SMS Test Program, Asha.",
            }
        )
        self.assertEqual(sms.state, "outgoing")
        self.assertIn(sms, self.env["sms.sms"].search([("number", "=", "+919845012345"), ("state", "=", "outgoing")]))
        # The queue is emptied by Odoo's SMS cron; it must exist for the queue to drain.
        self.assertTrue(self.env.ref("sms.ir_cron_sms_scheduler_action").active)

    def test_member_records_can_send_sms(self):
        # Members are mail.thread records, so the sms addon's sending helpers apply to them.
        self.assertTrue(hasattr(self.member, "_message_sms"))
        self.assertTrue(self.env.company._get_sms_api_class())

    def test_every_provider_offered(self):
        """Our providers survive beside sms_twilio's field definition when both are installed."""
        values = self.env["res.company"]._fields["sms_provider"].get_values(self.env)
        self.assertTrue({"iap", "dlt_http", "log"} <= set(values))
        if "sms_twilio_account_sid" in self.env["res.company"]._fields:
            self.assertIn("twilio", values)

    def test_templates_of_every_event(self):
        templates = self.env["sms.template"].search([("klodr_event", "!=", False)])
        self.assertEqual(
            set(templates.mapped("klodr_event")),
            {"otp", "welcome", "earned", "redeemed", "expiry", "tier_change", "birthday", "anniversary"})
        kinds = {t.klodr_event: t.klodr_kind for t in templates}
        self.assertEqual({e for e, k in kinds.items() if k == "promotional"}, {"birthday", "anniversary"})
        for template in templates:
            self.assertEqual(template.model, "klodr.member")
            self.assertLessEqual(len(template.body), 160, template.name)
            self.assertTrue(template.body.endswith("-{{ brand }}"), template.name)
        if self.env.ref("loyalty_klodr.klodr_program_demo", raise_if_not_found=False):
            self.assertEqual(self.env.ref("base.main_company").sms_provider, "log", "demo data: the log provider")
