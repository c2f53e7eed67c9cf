from decimal import Decimal

from markupsafe import Markup, escape

from odoo import api, fields, models

from ..tools import rules as pure_rules


class KlodrRuleSimulator(models.TransientModel):
    """"This basket for this member earns ...": the program's rules evaluated live, nothing written."""

    _name = "klodr.rule.simulator"
    _description = "Loyalty Rule Simulator"

    program_id = fields.Many2one("klodr.program", required=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    member_id = fields.Many2one("klodr.member", domain="[('program_id', '=', program_id)]",
                                help="Caps and segments use this member's history; empty: a new member.")
    tier_id = fields.Many2one("klodr.tier", domain="[('program_id', '=', program_id)]",
                              help="The tier to simulate when no member is chosen.")
    amount = fields.Monetary(currency_field="currency_id", default=1000.0)
    date = fields.Datetime(default=fields.Datetime.now, required=True)
    store_id = fields.Many2one("klodr.store")
    promo_code = fields.Char()
    line_ids = fields.One2many("klodr.rule.simulator.line", "simulator_id", string="Basket")
    points = fields.Integer(compute="_compute_result", string="Points Earned")
    breakdown_html = fields.Html(compute="_compute_result", string="Breakdown", sanitize=False)

    @api.onchange("line_ids")
    def _onchange_lines(self):
        if self.line_ids:
            self.amount = sum(self.line_ids.mapped("amount"))

    @api.depends("program_id", "member_id", "tier_id", "amount", "date", "store_id", "promo_code",
                 "line_ids.product_id", "line_ids.quantity", "line_ids.amount")
    def _compute_result(self):
        for wizard in self:
            evaluation = wizard._evaluate()
            wizard.points = evaluation.points
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td class='text-end'>%s</td></tr>") % (award.label, award.points)
                for award in evaluation.awards)
            wizard.breakdown_html = Markup(
                "<table class='table table-sm'><tbody>%s</tbody><tfoot><tr><th>%s</th>"
                "<th class='text-end'>%s</th></tr></tfoot></table>") % (
                rows, escape(self.env._("Total")), evaluation.points)

    def _evaluate(self):
        self.ensure_one()
        program = self.program_id
        if not program or self.amount < 0:
            return pure_rules.Evaluation(())
        member = self.member_id
        tier = member.tier_id if member else self.tier_id
        local_now = (member or self.env["klodr.member"].new({"program_id": program.id}))._local_now(self.date)
        rules = program.rule_ids.filtered("active")
        context = member._rule_context(rules, local_now) if member else pure_rules.Member(
            tier=tier.id or None, multiplier=Decimal(str(tier.multiplier or 1)))
        campaigns = program.campaign_ids.filtered(
            lambda c: c.active and c.date_from <= local_now.date() <= c.date_to)
        order = pure_rules.Order(
            amount=Decimal(str(self.amount)), when=local_now, store=self.store_id.id or None,
            lines=tuple(line._to_pure() for line in self.line_ids),
            promo_codes=frozenset({self.promo_code.strip().upper()}) if self.promo_code else frozenset())
        return pure_rules.evaluate([r._to_pure(member or None) for r in rules], context, order=order,
                                   campaigns=[c._to_pure(member or None) for c in campaigns])


class KlodrRuleSimulatorLine(models.TransientModel):
    _name = "klodr.rule.simulator.line"
    _description = "Loyalty Rule Simulator Line"

    simulator_id = fields.Many2one("klodr.rule.simulator", required=True, ondelete="cascade")
    product_id = fields.Many2one("product.product", required=True)
    quantity = fields.Float(default=1.0)
    currency_id = fields.Many2one(related="simulator_id.currency_id")
    amount = fields.Monetary(currency_field="currency_id")

    @api.onchange("product_id", "quantity")
    def _onchange_product(self):
        if self.product_id:
            self.amount = self.product_id.lst_price * self.quantity

    def _to_pure(self):
        return self.env["klodr.transaction"]._pure_line(self.product_id, self.quantity, self.amount)
