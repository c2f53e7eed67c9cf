from odoo import models

# The open POS showing a member refresh it when its points or holds change (bus, after commit).
_PRECOMMIT_KEY = "loyalty_klodr_pos.changed_members"
EXPIRING_DAYS = 30


class KlodrMember(models.Model):
    _inherit = "klodr.member"

    def _lock_for_points(self):
        """Every change of a member's points or holds locks the member here first: remember the
        members, and tell the open POS of their programs once, when the transaction commits."""
        state = super()._lock_for_points()
        if self.ids:
            changed = self.env.cr.precommit.data.setdefault(_PRECOMMIT_KEY, set())
            if not changed:
                self.env.cr.precommit.add(self.sudo()._klodr_pos_notify_changed)
            changed.update(self.ids)
        return state

    def _klodr_pos_notify_changed(self):
        member_ids = self.env.cr.precommit.data.pop(_PRECOMMIT_KEY, set())
        if not member_ids:
            return
        self.env.cr.execute(
            """SELECT s.config_id, array_agg(DISTINCT m.id)
                 FROM pos_session s
                 JOIN pos_config c ON c.id = s.config_id
                 JOIN klodr_member m ON m.program_id = c.klodr_program_id
                WHERE s.state = 'opened' AND m.id = ANY(%s)
                GROUP BY s.config_id""", [list(member_ids)])
        for config_id, ids in self.env.cr.fetchall():
            self.env["pos.config"].sudo().browse(config_id)._notify("KLODR_MEMBER", {"member_ids": sorted(ids)})

    def _klodr_pos_data(self):
        """What the cashier's panel shows of the member, as the server knows it now."""
        self.ensure_one()
        member = self.sudo()
        tier = member.tier_id
        next_tier, needed = member._next_tier()
        progress = None
        if next_tier:
            low = tier.threshold_points if tier else 0
            span = max(next_tier.threshold_points - low, 1)
            progress = max(0, min(100, round(100 * (span - needed) / span)))
        expiring = member._expiring(EXPIRING_DAYS)
        return {
            "id": member.id,
            "code": member.code,
            "name": member.name,
            "mobile": member.mobile,
            "state": member.state,
            "tier": {"name": tier.name, "code": tier.code or "", "color": tier.color or ""} if tier else False,
            "balance": member.balance,
            "held": member.held_points,
            "spendable": member.spendable_points,
            "expiring_points": sum(points for _day, points in expiring),
            "expiring_date": expiring[0][0].isoformat() if expiring else False,
            "expiring_days": EXPIRING_DAYS,
            "next_tier": {"name": next_tier.name, "points_needed": needed, "progress": progress}
            if next_tier else False,
            "referral_code": member.referral_code,
        }
