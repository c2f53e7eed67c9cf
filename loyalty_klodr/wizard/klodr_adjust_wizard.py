from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class KlodrAdjustWizard(models.TransientModel):
    """A manager's correction of a balance: an ``adjust`` entry with its reason."""

    _name = "klodr.adjust.wizard"
    _description = "Adjust Loyalty Points"

    member_id = fields.Many2one("klodr.member", required=True, readonly=True)
    balance = fields.Integer(related="member_id.balance", string="Current Balance")
    points = fields.Integer(required=True, help="Positive to credit, negative to debit.")
    reason = fields.Text(required=True)
    store_id = fields.Many2one("klodr.store")

    def action_confirm(self):
        self.ensure_one()
        if not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise AccessError(self.env._("Only a Loyalty Manager can adjust balances."))
        if not self.points:
            raise UserError(self.env._("Enter the points to add (positive) or remove (negative)."))
        if not (self.reason or "").strip():
            raise UserError(self.env._("A reason is required."))
        entry = self.env["klodr.ledger.entry"]._post(
            self.member_id, "adjust", self.points,
            # One wizard posts once, however often its button is clicked.
            idempotency_key=f"adjust-wizard:{self.id}",
            store=self.store_id, source_ref=self.env._("Adjustment"), description=self.reason.strip(),
        )
        self.member_id.message_post(body=self.env._(
            "Balance adjusted by %(points)s points: %(reason)s", points=self.points, reason=self.reason.strip()))
        return {"type": "ir.actions.act_window_close", "infos": {"entry_id": entry.id}}
