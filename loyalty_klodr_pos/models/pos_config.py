"""The cashier's loyalty panel talks to the server through these methods only.

Each checks that the caller is a POS user of this point of sale, then works as the
server: it finds and enrolls members, previews what an order earns, lists rewards and
starts, authorizes, resends or cancels redemptions. None of them moves points: points
are earned and redeemed when the paid order syncs (``pos.order``), from its lines.
"""
import contextlib
from collections import defaultdict
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_round

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError
from odoo.addons.loyalty_klodr.tools import rewards as pure_rewards
from odoo.addons.loyalty_klodr.tools import rules as pure_rules
from odoo.addons.loyalty_klodr.tools.apportion import apportion_by_key

MAX_LINES = 500
ORDER_REF_PREFIX = "pos:"


def order_ref_for(uuid):
    """The loyalty reference of a POS order: its uuid, known to the browser before the order syncs."""
    return f"{ORDER_REF_PREFIX}{uuid}"


class PosConfig(models.Model):
    _inherit = "pos.config"

    klodr_program_id = fields.Many2one(
        "klodr.program", string="Loyalty Program", domain="[('company_id', '=', company_id)]",
        help="Members of this program earn and redeem points at this point of sale.")
    klodr_store_id = fields.Many2one(
        "klodr.store", string="Loyalty Store", domain="[('company_id', '=', company_id)]",
        help="The showroom this point of sale belongs to: its ledger entries carry it, and store rules apply.")
    klodr_reward_product_id = fields.Many2one(
        "product.product", string="Loyalty Discount Product",
        default=lambda self: self.env.ref("loyalty_klodr_pos.product_klodr_reward", raise_if_not_found=False),
        help="The product of the discount lines a redemption adds (one line per tax set).")
    klodr_free_product_mode = fields.Selection(
        [("zero_price", "At zero price"), ("discount", "With a 100% discount")], string="Free Products",
        default="zero_price", required=True, help="How a free product reward appears on the order.")
    klodr_hold_hours = fields.Integer(
        string="Hold Redeemed Points (hours)", default=12,
        help="After the OTP, the points stay reserved this long for the order to be paid and synced.")

    @api.constrains("klodr_program_id", "klodr_store_id", "company_id")
    def _check_klodr_company(self):
        for config in self:
            for record in (config.klodr_program_id, config.klodr_store_id):
                if record and record.company_id != config.company_id:
                    raise ValidationError(self.env._(
                        "The loyalty program and store of %s must belong to its company.", config.name))

    def _get_special_products(self):
        products = super()._get_special_products()
        reward = self.env.ref("loyalty_klodr_pos.product_klodr_reward", raise_if_not_found=False)
        return products | (reward or products) | self.sudo().search(
            [("klodr_reward_product_id", "!=", False)]).klodr_reward_product_id

    def _klodr_reward_product(self):
        self.ensure_one()
        return self.sudo().klodr_reward_product_id or self.env.ref(
            "loyalty_klodr_pos.product_klodr_reward", raise_if_not_found=False) or self.env["product.product"]

    def _load_pos_data_read(self, records, config):
        read_records = super()._load_pos_data_read(records, config)
        if read_records:
            read_records[0]["_klodr"] = config._klodr_pos_settings()
        return read_records

    def _klodr_pos_settings(self):
        self.ensure_one()
        program = self.sudo().klodr_program_id
        if not program:
            return {"enabled": False}
        return {
            "enabled": True,
            "program_name": program.name,
            "points_name": program.points_name,
            "points_symbol": program.points_symbol,
            "otp_required": program.otp_required,
            "min_redeem_balance": program.min_redeem_balance,
            "reward_product_id": self._klodr_reward_product().id,
            "free_product_mode": self.klodr_free_product_mode,
        }

    # ------------------------------------------------------------------
    # Plumbing
    # ------------------------------------------------------------------
    def _klodr_program(self):
        """The program of this point of sale, for a POS user of it (as superuser: cashiers need
        no Loyalty rights; everything below stays within this program and its company)."""
        self.ensure_one()
        if not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessError(self.env._("Only Point of Sale users can use the loyalty panel."))
        self.check_access("read")
        config = self.sudo().with_company(self.company_id)
        if not config.klodr_program_id:
            raise UserError(self.env._("No loyalty program is set on %s.", self.name))
        return config.klodr_program_id

    def _klodr_member(self, member_id):
        program = self._klodr_program()
        member = program.env["klodr.member"].browse(int(member_id)).exists()
        if not member or member.program_id != program:
            raise UserError(self.env._("Unknown member."))
        return member

    @api.model
    def _klodr_error(self, error):
        details = {k: v for k, v in getattr(error, "details", {}).items()
                   if isinstance(v, (str, int, float, bool, type(None)))}
        return {"error": getattr(error, "code", "validation_error"), "message": str(error.args[0]),
                "details": details}

    def _klodr_try(self, func):
        """Run ``func`` in a savepoint: a business refusal answers ``{"error": code, "message"}``
        and leaves nothing behind."""
        try:
            with self.env.cr.savepoint():
                return func()
        except LoyaltyError as error:
            return self._klodr_error(error)
        except ValidationError as error:
            return {"error": "validation_error", "message": str(error.args[0]), "details": {}}

    # ------------------------------------------------------------------
    # Order lines as the browser has them (before the order syncs)
    # ------------------------------------------------------------------
    def _klodr_parse_lines(self, lines, fiscal_position_id=False):
        """The order's current lines, valued on the server: ``[{product, qty, taxes, base, amount,
        reward}]`` where ``base`` is price x quantity less discount (the terms of the price) and
        ``amount`` the total with taxes."""
        if not isinstance(lines, list) or len(lines) > MAX_LINES:
            raise UserError(self.env._("Send the order's lines (at most %s).", MAX_LINES))
        env = self.sudo().with_company(self.company_id).env
        fpos = env["account.fiscal.position"].browse(int(fiscal_position_id)).exists() if fiscal_position_id \
            else env["account.fiscal.position"]
        products = {p.id: p for p in env["product.product"].browse(
            {int(line.get("product_id") or 0) for line in lines}).exists()}
        taxes = {t.id: t for t in env["account.tax"].browse(
            {int(t) for line in lines for t in line.get("tax_ids") or []}).exists()}
        parsed = []
        for line in lines:
            product = products.get(int(line.get("product_id") or 0))
            if not product:
                continue
            try:
                qty = float(line.get("qty") or 0)
                price = float(line.get("price_unit") or 0) * (1 - float(line.get("discount") or 0) / 100)
            except (TypeError, ValueError) as exc:
                raise UserError(self.env._("A line's quantity or price is not a number.")) from exc
            line_taxes = env["account.tax"].union(*(taxes[t] for t in line.get("tax_ids") or [] if t in taxes))
            parsed.append(self._klodr_line(product, qty, price, line_taxes, fpos, bool(line.get("klodr_reward"))))
        return parsed

    def _klodr_line(self, product, qty, price, taxes, fpos, reward):
        currency = self.currency_id
        mapped = fpos.map_tax(taxes) if fpos else taxes
        amount = mapped.compute_all(price, currency, qty, product=product)["total_included"] if mapped \
            else currency.round(price * qty)
        return {"product": product, "qty": qty, "taxes": taxes, "base": currency.round(price * qty),
                "amount": amount, "reward": reward}

    @api.model
    def _klodr_pure_lines(self, lines):
        """The lines the earn rules see: every sold line, valued with its taxes (reward lines only
        lower the amount)."""
        Transaction = self.env["klodr.transaction"]
        return tuple(Transaction._pure_line(line["product"], line["qty"], line["amount"])
                     for line in lines if not line["reward"])

    def _klodr_order_amount(self, lines):
        return max(float_round(sum(line["amount"] for line in lines),
                               precision_rounding=self.currency_id.rounding), 0.0)

    def _klodr_discount_lines(self, redemption, lines):
        """The order lines a redemption adds, computed here so the browser only shows them.

        A discount is split over the tax sets of the discounted lines in proportion to their
        value, to the last paisa (largest remainder): one line per tax set, so each line's tax
        is computed on the discounted value. In an Indian company, one line per tax set and HSN
        code, each carrying the HSN it discounts (``hsn_code``), so the HSN summary of the receipt
        shows post-discount values. A free product is one line at zero price or with a 100%
        discount (setting). Other rewards add no line.
        """
        reward = redemption.reward_id
        if reward and reward.reward_type == pure_rewards.FREE_PRODUCT:
            product = reward.product_id
            discount_mode = self.klodr_free_product_mode == "discount"
            return [{"product_id": product.id, "qty": 1, "discount": 100 if discount_mode else 0,
                     "price_unit": product.lst_price if discount_mode else 0.0,
                     "tax_ids": product.taxes_id.filtered(lambda t: t.company_id == self.company_id).ids,
                     "name": reward.name}]
        if reward and reward.reward_type not in pure_rewards.ORDER_REWARD_TYPES or not redemption.discount_amount:
            return []
        by_hsn = self.company_id.country_id.code == "IN" and "l10n_in_hsn_code" in self.env["product.product"]._fields
        by_taxes = defaultdict(Decimal)
        for line in lines:
            if not line["reward"]:
                hsn = (line["product"].l10n_in_hsn_code or "") if by_hsn else ""
                by_taxes[tuple(sorted(line["taxes"].ids)), hsn] += Decimal(str(line["base"]))
        weights = {key: value for key, value in by_taxes.items() if value > 0}
        if not weights:
            raise LoyaltyError(self.env._("The order has nothing to discount."), code="exceeds_max_redemption")
        rounding = Decimal(str(self.currency_id.rounding))
        parts = apportion_by_key(Decimal(str(redemption.discount_amount)), weights, rounding)
        name = reward.name if reward else self.env._("%(points)s %(symbol)s redeemed", points=redemption.points,
                                                          symbol=redemption.program_id.points_symbol)
        return [{"product_id": self._klodr_reward_product().id, "qty": 1, "discount": 0,
                 "price_unit": -float(part), "tax_ids": list(tax_ids), "name": name, "hsn_code": hsn or False}
                for (tax_ids, hsn), part in parts.items() if part]

    # ------------------------------------------------------------------
    # Members
    # ------------------------------------------------------------------
    def klodr_find_member(self, query):
        """The member known by this mobile number (any format) or member code, or False."""
        program = self._klodr_program()
        if not isinstance(query, str) or len(query) > 32:
            return False
        member = program.env["klodr.member"]._find_by_mobile_or_code(program, query)
        return member._klodr_pos_data() if member else False

    def klodr_member_info(self, member_id):
        return self._klodr_member(member_id)._klodr_pos_data()

    def klodr_enroll_member(self, vals):
        """Enroll a member: ``{name, mobile, birthday?, anniversary?, referral_code?}``. When the
        mobile number is already a member, answer ``member_exists`` with that member."""
        program = self._klodr_program()
        if not isinstance(vals, dict):
            raise UserError(self.env._("Enter the member's name and mobile number."))
        clean = {}
        for key in ("name", "mobile"):
            value = vals.get(key)
            if not isinstance(value, str) or not value.strip() or len(value) > 128:
                return {"error": "validation_error", "message": self.env._("Enter the member's name and mobile."),
                        "details": {"field": key}}
            clean[key] = value.strip()
        for key in ("birthday", "anniversary"):
            if vals.get(key):
                try:
                    clean[key] = fields.Date.to_date(vals[key])
                except (TypeError, ValueError):
                    return {"error": "validation_error", "message": self.env._("%s is not a date.", vals[key]),
                            "details": {"field": key}}
        referral = vals.get("referral_code") or None
        if referral is not None and (not isinstance(referral, str) or len(referral) > 32):
            return {"error": "validation_error", "message": self.env._("Invalid referral code."),
                    "details": {"field": "referral_code"}}
        store = self.sudo().klodr_store_id or None

        def enroll():
            member = program.env["klodr.member"]._enroll(program, clean, referral_code=referral, store=store)
            return member._klodr_pos_data()

        result = self._klodr_try(enroll)
        if result.get("error") == "member_exists":
            with contextlib.suppress(UserError):
                result["member"] = self.klodr_find_member(clean["mobile"])
        return result

    def klodr_preview_points(self, member_id, lines, fiscal_position_id=False):
        """Points the order's current lines would earn this member (nothing is written)."""
        member = self._klodr_member(member_id)
        parsed = self._klodr_parse_lines(lines, fiscal_position_id)
        store = self.sudo().klodr_store_id
        order = pure_rules.Order(amount=Decimal(str(self._klodr_order_amount(parsed))),
                                 when=member._local_now(), lines=self._klodr_pure_lines(parsed),
                                 store=store.id if store else None)
        try:
            evaluation = member._evaluate(order=order)
        except pure_rules.RuleError as error:
            return {"points": 0, "breakdown": [], "error": error.code}
        return {"points": evaluation.points,
                "breakdown": [{"label": a.label, "points": a.points} for a in evaluation.awards if a.points]}

    # ------------------------------------------------------------------
    # Rewards and redemptions
    # ------------------------------------------------------------------
    def klodr_rewards(self, member_id, lines, fiscal_position_id=False):
        """The catalogue for this member and order: each reward eligible or not, and why not;
        and the bounds of a redemption by points."""
        member = self._klodr_member(member_id)
        program = member.program_id
        amount = self._klodr_order_amount(self._klodr_parse_lines(lines, fiscal_position_id))
        rewards = program.env["klodr.reward"].search([("program_id", "=", program.id)])
        eligibility = rewards._eligibility_by_reward(member, order_amount=amount)
        rounding = Decimal(str(program.currency_id.rounding or 0.01))
        max_amount = pure_rewards.max_redeemable_amount(amount, Decimal(str(program.max_redeem_share)), rounding)
        max_points = min(member.spendable_points, int(max_amount / Decimal(str(program.point_value)))) \
            if program.point_value else 0
        result = []
        for reward in rewards:
            eligible, refusal = eligibility[reward.id]
            result.append({
                "id": reward.id, "name": reward.name, "type": reward.reward_type, "points_cost": reward.points_cost,
                "value": reward._discount_amount(amount) if reward.reward_type in pure_rewards.ORDER_REWARD_TYPES
                else reward.value,
                "min_tier": reward.min_tier_id.name or False,
                "eligible": eligible, "reason": str(refusal) if refusal else False,
                "reason_text": reward._refusal_message(refusal) if refusal else False,
            })
        return {"rewards": result, "order_amount": amount, "point_value": program.point_value,
                "min_points": program.min_redeem_balance, "max_points": max(max_points, 0),
                "spendable": member.spendable_points}

    def klodr_start_redemption(self, order_uuid, member_id, reward_id=False, points=False, lines=(),
                               fiscal_position_id=False):
        """Start a redemption for the order ``order_uuid``: the server checks it, holds the points
        and sends the OTP to the member. Without OTP (program setting) it is redeemed at once."""
        member = self._klodr_member(member_id)
        program = member.program_id
        if not isinstance(order_uuid, str) or not 8 <= len(order_uuid) <= 64:
            raise UserError(self.env._("Unknown order."))
        parsed = self._klodr_parse_lines(list(lines), fiscal_position_id)
        reward = program.env["klodr.reward"]
        if reward_id:
            reward = reward.search([("id", "=", int(reward_id)), ("program_id", "=", program.id)])
            if not reward:
                return {"error": "reward_unavailable", "message": self.env._("Unknown reward."), "details": {}}
        if points is not False and (isinstance(points, bool) or not isinstance(points, int)):
            return {"error": "validation_error", "message": self.env._("Points are a whole number."),
                    "details": {"field": "points"}}

        def start():
            redemption = program.env["klodr.redemption"]._start(
                member, reward=reward or None, points=points or None, order_ref=order_ref_for(order_uuid),
                order_amount=self._klodr_order_amount(parsed), store=self.sudo().klodr_store_id or None)
            redemption.sudo().pos_config_id = self.id
            return self._klodr_redemption_answer(redemption, parsed)

        return self._klodr_try(start)

    def _klodr_redemption(self, redemption_id):
        program = self._klodr_program()
        redemption = program.env["klodr.redemption"].browse(int(redemption_id)).exists()
        if not redemption or redemption.program_id != program or not (redemption.order_ref or "").startswith(
                ORDER_REF_PREFIX):
            raise UserError(self.env._("Unknown redemption."))
        return redemption

    def _klodr_redemption_answer(self, redemption, parsed=None):
        answer = {"redemption_id": redemption.id, "name": redemption.name, "status": redemption.state,
                  "points": redemption.points, "discount_amount": redemption.discount_amount,
                  "reward": redemption.reward_id.name or False,
                  "otp_expires_at": fields.Datetime.to_string(redemption.otp_expires_at)
                  if redemption.state == "pending_otp" else False,
                  "member": redemption.member_id._klodr_pos_data()}
        if parsed is not None and redemption.state in ("authorized", "confirmed"):
            answer["lines"] = self._klodr_discount_lines(redemption, parsed)
        return answer

    def klodr_confirm_redemption(self, redemption_id, otp, lines=(), fiscal_position_id=False):
        """The code the member read out: right, the redemption is authorized and the answer carries
        the order lines to add; wrong, the attempt counts (and is committed with the answer)."""
        redemption = self._klodr_redemption(redemption_id)
        parsed = self._klodr_parse_lines(list(lines), fiscal_position_id)
        if not isinstance(otp, (str, int)) or isinstance(otp, bool) or len(str(otp)) > 12:
            return {"error": "otp_invalid", "message": self.env._("Type the code the member received."),
                    "details": {}}
        refused = redemption._klodr_pos_authorize(str(otp), self.klodr_hold_hours)
        if refused:
            messages = {"otp_invalid": self.env._("Wrong code."),
                        "otp_locked": self.env._("Too many wrong codes: the redemption is cancelled."),
                        "otp_expired": self.env._("The code expired: start again."),
                        "redemption_not_pending": self.env._("The redemption is not waiting for a code.")}
            details = {k: v for k, v in refused.items() if k not in ("error", "status")}
            return {"error": refused["error"], "status": refused["status"],
                    "message": messages.get(refused["error"], refused["error"]), "details": details}
        return self._klodr_try(lambda: self._klodr_redemption_answer(redemption, parsed))

    def klodr_resend_otp(self, redemption_id):
        redemption = self._klodr_redemption(redemption_id)
        return self._klodr_try(lambda: self._klodr_redemption_answer(redemption._resend()))

    def klodr_cancel_redemption(self, redemption_id):
        """Take back a redemption the order no longer uses (lines removed, order deleted)."""
        redemption = self._klodr_redemption(redemption_id)

        def cancel():
            redemption._check_cancel_from_pos()
            redemption._cancel(self.env._("Cancelled at the counter"))
            return self._klodr_redemption_answer(redemption)

        return self._klodr_try(cancel)
