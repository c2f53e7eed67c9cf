from unittest import SkipTest

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestBackendTour(HttpCase):
    """A manager configures a program through the screens, in a real Chromium."""

    # The first request builds the asset bundles inside the test transaction, which takes long on
    # a busy machine; the browser's other requests wait for the test cursor meanwhile (20 s by default).
    test_cursor_lock_timeout = 120

    def test_manager_sets_up_a_program_and_simulates(self):
        new_test_user(self.env, login="klodr_tour_manager", name="Tour Manager",
                      groups="base.group_user,loyalty_klodr.group_loyalty_manager")
        try:
            self.start_tour("/odoo", "klodr_backend_tour", login="klodr_tour_manager", timeout=240)
        except SkipTest as exc:  # no browser: the tour did not run, which is no pass
            self.fail(f"the backend tour could not run: {exc}")
        program = self.env["klodr.program"].search([("name", "=", "Tour Rewards")])
        self.assertEqual(len(program), 1)
        self.assertEqual(program.tier_ids.mapped("name"), ["Tour Gold"])
        self.assertEqual(program.tier_ids.multiplier, 1.5)
        self.assertEqual((program.rule_ids.name, program.rule_ids.kind, program.rule_ids.points,
                          program.rule_ids.spend_unit), ("Tour base rule", "amount", 1, 10))
        reward = self.env["klodr.reward"].search([("name", "=", "Tour Tea")])
        self.assertEqual((reward.program_id, reward.points_cost, reward.value), (program, 150, 40))
