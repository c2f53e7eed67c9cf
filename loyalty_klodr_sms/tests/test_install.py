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
