from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.exceptions import AccessError

TOP_REWARDS = 5


class KlodrProgram(models.Model):
    """The operator's dashboard: a program's key figures at a glance."""

    _inherit = "klodr.program"

    dashboard_member_count = fields.Integer(string="Active Memberships", compute="_compute_dashboard",
                                            help="Members not blocked nor erased.")
    dashboard_active_count = fields.Integer(string="Active in 90 Days", compute="_compute_dashboard",
                                            help="Members who bought or redeemed in the last 90 days "
                                                 "(as of the last refresh of the analyses).")
    dashboard_active_share = fields.Float(string="Active Share (%)", compute="_compute_dashboard", digits=(5, 1))
    dashboard_points_value = fields.Monetary(string="Value of Points Outstanding", compute="_compute_dashboard",
                                             currency_field="currency_id")
    dashboard_points_issued = fields.Integer(string="Points Issued (12 Months)", compute="_compute_dashboard")
    dashboard_points_redeemed = fields.Integer(string="Points Redeemed (12 Months)", compute="_compute_dashboard")
    dashboard_redemption_rate = fields.Float(string="Redemption Rate (%)", compute="_compute_dashboard",
                                             digits=(5, 1), help="Points redeemed per 100 issued, last 12 months.")
    dashboard_tier_summary = fields.Char(string="Tier Distribution", compute="_compute_dashboard")
    dashboard_top_reward_ids = fields.Many2many("klodr.reward", string="Top Rewards", compute="_compute_dashboard",
                                                help="The rewards members took most often.")
    dashboard_refreshed_at = fields.Datetime(
        string="Analyses As Of", compute="_compute_dashboard",
        help="When the analyses (sales and redemption, points expiring, member activity) were last "
             "recomputed: every night, or with the Refresh button.")

    def _compute_dashboard(self):
        programs = self.filtered("id")
        (self - programs).update({
            "dashboard_member_count": 0, "dashboard_active_count": 0, "dashboard_active_share": 0.0,
            "dashboard_points_value": 0.0, "dashboard_points_issued": 0, "dashboard_points_redeemed": 0,
            "dashboard_redemption_rate": 0.0, "dashboard_tier_summary": False, "dashboard_top_reward_ids": False,
            "dashboard_refreshed_at": False})
        if not programs:
            return
        now = fields.Datetime.now()
        members = {program.id: count for program, count in self.env["klodr.member"]._read_group(
            [("program_id", "in", programs.ids), ("state", "=", "active")], ["program_id"], ["__count"])}
        active = {program.id: count for program, count in self.env["klodr.report.member"]._read_group(
            [("program_id", "in", programs.ids), ("active_count", "=", 1)], ["program_id"], ["__count"])}
        # The last 12 months of the summed analysis (its days are the program's; a day's margin is no matter).
        Activity = self.env["klodr.report.activity"]
        flows = {program.id: (issued, redeemed, rate) for program, issued, redeemed, rate in Activity._read_group(
            [("program_id", "in", programs.ids), ("kind", "=", "points"),
             ("date", ">=", (now - relativedelta(months=12)).date())],
            ["program_id"], ["points_issued:sum", "points_redeemed:sum", "redemption_rate:avg"])}
        refreshed_at = Activity._refreshed_at()
        tiers = {}
        for program, tier, count in self.env["klodr.member"]._read_group(
                [("program_id", "in", programs.ids), ("state", "=", "active")], ["program_id", "tier_id"],
                ["__count"], order="program_id, tier_id"):
            tiers.setdefault(program.id, []).append(f"{tier.name or self.env._('No tier')} {count}")
        top = {}
        for reward, _count in self.env["klodr.reward.issue"]._read_group(
                [("reward_id.program_id", "in", programs.ids), ("state", "!=", "cancelled")], ["reward_id"],
                ["__count"], order="__count desc, reward_id"):
            top.setdefault(reward.program_id.id, []).append(reward.id)
        for program in programs:
            count = members.get(program.id, 0)
            issued, redeemed, rate = flows.get(program.id, (0, 0, 0.0))
            program.update({
                "dashboard_member_count": count,
                "dashboard_active_count": active.get(program.id, 0),
                "dashboard_active_share": 100.0 * active.get(program.id, 0) / count if count else 0.0,
                "dashboard_points_value": program.points_outstanding * program.point_value,
                "dashboard_points_issued": issued,
                "dashboard_points_redeemed": redeemed,
                "dashboard_redemption_rate": rate,
                "dashboard_tier_summary": " · ".join(tiers.get(program.id, [])) or False,
                "dashboard_top_reward_ids": [(6, 0, top.get(program.id, [])[:TOP_REWARDS])],
                "dashboard_refreshed_at": refreshed_at,
            })

    def action_dashboard_refresh(self):
        """Recompute the summed analyses now (they are recomputed every night)."""
        if not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise AccessError(self.env._("Only a Loyalty Manager can refresh the analyses."))
        self.env["klodr.report.activity"].sudo()._refresh_reports()
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    def _dashboard_open(self, xmlid, **context):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["context"] = dict(context, search_default_program_id=self.id)
        return action

    def action_dashboard_activity(self):
        return self._dashboard_open("loyalty_klodr.klodr_report_activity_action")

    def action_dashboard_expiry(self):
        return self._dashboard_open("loyalty_klodr.klodr_report_expiry_action")

    def action_dashboard_members(self):
        return self._dashboard_open("loyalty_klodr.klodr_report_member_action")

    def action_dashboard_tiers(self):
        return self._dashboard_open("loyalty_klodr.klodr_report_tier_distribution_action")

    def action_dashboard_categories(self):
        return self._dashboard_open("loyalty_klodr.klodr_report_category_action")
