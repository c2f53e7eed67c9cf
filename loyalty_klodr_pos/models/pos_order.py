import logging
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import SQL, float_round

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError
from odoo.addons.loyalty_klodr.tools.amount_words import indian_amount_in_words

from .pos_config import order_ref_for

_logger = logging.getLogger(__name__)

# Written by the server when the order syncs; whatever the browser sends for them is dropped.
SERVER_FIELDS = ("klodr_member_id", "klodr_transaction_id", "klodr_points_earned", "klodr_points_redeemed",
                 "klodr_points_reversed", "klodr_points_returned", "klodr_balance", "klodr_tier_name",
                 "klodr_tier_color", "klodr_error", "klodr_synced", "klodr_amount_words")
PAID_STATES = ("paid", "done", "invoiced")
# An Indian company's receipt: no dependency on l10n_in / l10n_in_pos (DESIGN.md). The company is
# known by its country (India) and currency (INR); the HSN field of order lines (from l10n_in_pos)
# is used only when it exists.
HSN_FIELD = "l10n_in_hsn_code"


def is_indian(company, currency):
    return company.country_id.code == "IN" and currency.name == "INR"


class PosOrder(models.Model):
    _inherit = "pos.order"

    klodr_member_code = fields.Char(string="Loyalty Member Code", index="btree_not_null",
                                    help="The member the cashier chose on the order.")
    klodr_member_id = fields.Many2one("klodr.member", string="Loyalty Member", readonly=True,
                                      index="btree_not_null")
    klodr_transaction_id = fields.Many2one("klodr.transaction", string="Loyalty Purchase", readonly=True)
    klodr_points_earned = fields.Integer(string="Points Earned", readonly=True)
    klodr_points_redeemed = fields.Integer(string="Points Redeemed", readonly=True)
    klodr_points_reversed = fields.Integer(string="Points Reversed", readonly=True)
    klodr_points_returned = fields.Integer(string="Redeemed Points Given Back", readonly=True)
    klodr_balance = fields.Integer(string="Balance After", readonly=True)
    klodr_tier_name = fields.Char(string="Tier", readonly=True)
    klodr_tier_color = fields.Char(readonly=True)
    klodr_error = fields.Char(string="Loyalty Problem", readonly=True)
    klodr_synced = fields.Boolean(string="Loyalty Recorded", readonly=True,
                                  help="The server recorded this order's points (the receipt shows its figures).")
    # Not stored: computed when the POS reads the order, i.e. in the answer of the sync that
    # precedes the receipt. Computed fields are never sent back by the browser.
    klodr_amount_words = fields.Char(
        string="Amount in Words", compute="_compute_klodr_amount_words",
        help="Indian rupee orders: the amount paid in lakh and crore (num2words en_IN), whatever the language.")

    @api.depends("amount_total", "state", "currency_id", "company_id", "payment_ids")
    def _compute_klodr_amount_words(self):
        for order in self:
            words = False
            # Only a paid order's amount is final: a draft's words could go stale in the browser.
            if order.state in PAID_STATES and is_indian(order.company_id, order.currency_id):
                amount = order._get_rounded_amount(order.amount_total)  # the "To Pay" of the receipt
                words = indian_amount_in_words(Decimal(str(amount)))
            order.klodr_amount_words = words

    @api.model
    def _process_order(self, order, existing_order):
        for name in SERVER_FIELDS:
            order.pop(name, None)
        # An HSN is only named by a discount line (checked by _klodr_check_reward_hsn).
        for command in order.get("lines") or []:
            if isinstance(command, (list, tuple)) and len(command) == 3 and isinstance(command[2], dict) \
                    and not command[2].get("klodr_reward_line"):
                command[2].pop("klodr_hsn_code", None)
        return super()._process_order(order, existing_order)

    def _process_saved_order(self, draft):
        self._klodr_check_reward_hsn()
        result = super()._process_saved_order(draft)
        if not draft and self.state in ("paid", "done") and self.config_id.klodr_program_id:
            self._klodr_sync()
        return result

    def _klodr_check_reward_hsn(self):
        """Loyalty discount lines carry the HSN of what they discount (the browser says which, from
        the server's split): keep it only if a sold line of the same tax set has that HSN, so the
        HSN summary and the session's entries show post-discount values per HSN."""
        Line = self.env["pos.order.line"]
        if HSN_FIELD not in Line._fields:
            return
        rewards = self.lines.filtered(lambda line: line.klodr_reward_line and line.klodr_hsn_code)
        if not rewards:
            return
        sold = {(frozenset(line.tax_ids.ids), line[HSN_FIELD]) for line in self.lines - rewards}
        for line in rewards:
            hsn = line.klodr_hsn_code if (frozenset(line.tax_ids.ids), line.klodr_hsn_code) in sold else False
            if (line.klodr_hsn_code, line[HSN_FIELD]) != (hsn, hsn):
                line.write({"klodr_hsn_code": hsn, HSN_FIELD: hsn})

    # ------------------------------------------------------------------
    def _klodr_sync(self):
        """Earn (or reverse, for a refund) and redeem for this paid order, on the server's figures.

        Idempotent by the order's uuid: a purchase is unique per order reference and a refund per
        refund reference, so syncing again, retrying or syncing late never moves points twice.
        A loyalty refusal never blocks the sale: it is recorded on the order.
        """
        self.ensure_one()
        order = self.sudo()
        try:
            with self.env.cr.savepoint():
                if order.lines.refunded_orderline_id:
                    values = order._klodr_refund()
                else:
                    values = order._klodr_earn()
        except LoyaltyError as error:
            _logger.warning("Loyalty: order %s synced without its points: %s", order.name, error)
            values = {"klodr_error": f"{error.code}: {error.args[0]}"[:250]}
        if values:
            order.write(values)

    def _klodr_program(self):
        return self.config_id.klodr_program_id.with_company(self.company_id)

    def _klodr_store(self):
        return self.config_id.klodr_store_id or None

    def _klodr_lines(self):
        """The synced lines valued on the server (price, discount, quantity and taxes of each line)."""
        config = self.config_id
        fpos = self.fiscal_position_id
        return [config._klodr_line(line.product_id, line.qty, line.price_unit * (1 - (line.discount or 0) / 100),
                                   line.tax_ids, fpos, line.klodr_reward_line)
                for line in self.lines]

    def _klodr_summary(self, member):
        tier = member.tier_id
        return {"klodr_member_id": member.id, "klodr_member_code": member.code, "klodr_balance": member.balance,
                "klodr_tier_name": tier.name or False, "klodr_tier_color": tier.color or False,
                "klodr_error": False, "klodr_synced": True}

    def _klodr_order_state(self, program, order_ref):
        """``(member, purchase, redemptions)`` of this order in one statement (this runs on every
        synced order): the member of the code the panel set (one probe of its unique index), the
        purchase already recorded for the order, its authorized or confirmed redemptions."""
        env = program.env
        for model in ("klodr.member", "klodr.transaction", "klodr.redemption"):
            env[model].flush_model()
        env.cr.execute(SQL(
            """SELECT (SELECT id FROM klodr_member WHERE program_id = %(program)s AND code = %(code)s),
                      (SELECT id FROM klodr_transaction WHERE program_id = %(program)s AND order_ref = %(ref)s),
                      ARRAY(SELECT id FROM klodr_redemption
                             WHERE program_id = %(program)s AND order_ref = %(ref)s
                               AND state IN ('authorized', 'confirmed') ORDER BY id DESC)""",
            program=program.id, code=self.klodr_member_code or None, ref=order_ref))
        member_id, transaction_id, redemption_ids = env.cr.fetchone()
        return (env["klodr.member"].browse(member_id), env["klodr.transaction"].browse(transaction_id),
                env["klodr.redemption"].browse(redemption_ids))

    def _klodr_earn(self):
        program = self._klodr_program()
        order_ref = order_ref_for(self.uuid)
        member, transaction, redemptions = self._klodr_order_state(program, order_ref)
        member = member or redemptions.member_id[:1]
        if not member:
            return {}
        with_lines = any(self.lines.mapped("klodr_reward_line"))
        for redemption in redemptions:
            if with_lines or not redemption._klodr_adds_lines():
                redemption._klodr_pos_confirm(self)
            elif redemption.state == "authorized":  # the cashier removed its lines: the member keeps the points
                redemption._cancel(self.env._("Order %s paid without the reward", self.name))
        redemptions = redemptions.filtered(lambda r: r.state in ("authorized", "confirmed"))
        redemptions.filtered(lambda r: not r.pos_order_id).sudo().write({"pos_order_id": self.id})
        if not transaction and member.state == "active":
            config = self.config_id
            lines = self._klodr_lines()
            transaction = member._earn_order(
                config._klodr_order_amount(lines), order_ref=order_ref, lines=config._klodr_pure_lines(lines),
                when=self.date_order, store=self._klodr_store())
        values = self._klodr_summary(member)
        values.update(klodr_transaction_id=transaction.id, klodr_points_earned=transaction.points_earned,
                      klodr_points_redeemed=sum(redemptions.filtered(lambda r: r.state == "confirmed")
                                                .mapped("points")))
        values.update(self._klodr_check_reward_lines(redemptions))
        return values

    def _klodr_check_reward_lines(self, redemptions):
        """The discount on the order should be what the redemptions gave: say so when it is not."""
        reward_product = self.config_id._klodr_reward_product()
        given = -sum(line.price_unit * line.qty for line in self.lines
                     if line.klodr_reward_line and line.product_id == reward_product)
        expected = sum(r.discount_amount for r in redemptions if r.state == "confirmed"
                       and (not r.reward_id or r.reward_id.reward_type != "free_product"))
        if self.currency_id.compare_amounts(given, expected) > 0:
            return {"klodr_error": self.env._(
                "Loyalty discount lines (%(given)s) exceed the redemptions (%(expected)s).",
                given=given, expected=expected)}
        return {}

    def _klodr_refund(self):
        program = self._klodr_program()
        origin = self.lines.refunded_orderline_id.order_id[:1]
        transaction = program.env["klodr.transaction"].search([
            ("program_id", "=", program.id), ("order_ref", "=", order_ref_for(origin.uuid))])
        if not transaction:
            return {}
        lines = [line for line, record in zip(self._klodr_lines(), self.lines, strict=True)
                 if record.refunded_orderline_id]
        refunded = -sum(line["amount"] for line in lines)
        left = transaction.amount - transaction.refunded_amount
        amount = float_round(min(refunded, left), precision_rounding=self.currency_id.rounding)
        values = self._klodr_summary(transaction.member_id)
        if self.currency_id.compare_amounts(amount, 0) > 0:
            refund = transaction._refund(order_ref_for(self.uuid), f"{amount:.{self.currency_id.decimal_places}f}",
                                         when=self.date_order, store=self._klodr_store())
            values.update(klodr_points_reversed=refund.points_reversed, klodr_points_returned=refund.points_returned,
                          klodr_balance=transaction.member_id.balance)
        return values


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    klodr_reward_line = fields.Boolean(string="Loyalty Reward Line",
                                       help="Added by a loyalty redemption (discount or free product).")
    klodr_hsn_code = fields.Char(
        string="Discounted HSN/SAC", readonly=True,
        help="On a loyalty discount line: the HSN/SAC code of the goods it discounts.")

    @api.model
    def _load_pos_data_fields(self, config):
        return [*super()._load_pos_data_fields(config), "klodr_reward_line", "klodr_hsn_code"]
