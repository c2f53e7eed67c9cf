from decimal import Decimal

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..exceptions import LoyaltyError
from ..tools import rewards as pure

REWARD_TYPES = [
    (pure.DISCOUNT_FIXED, "Discount (fixed amount)"),
    (pure.DISCOUNT_PERCENT, "Discount (percentage)"),
    (pure.PRODUCT, "Catalogue Product"),
    (pure.FREE_PRODUCT, "Free Product at Checkout"),
    (pure.CASHBACK, "Cashback (store credit)"),
    (pure.VOUCHER, "Voucher Code"),
    (pure.DONATION, "Donation"),
]
# Fields of an issue that only _issue sets: what was given, to whom, for what.
_ISSUE_FIXED_FIELDS = frozenset({"reward_id", "member_id", "company_id", "points", "value", "code_id"})


class KlodrReward(models.Model):
    """An entry of the rewards catalogue: what a member gets for points, and on what conditions."""

    _name = "klodr.reward"
    _description = "Loyalty Reward"
    _inherit = ["mail.thread", "image.mixin"]
    _order = "program_id, sequence, points_cost, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    program_id = fields.Many2one("klodr.program", required=True, index=True, ondelete="cascade",
                                 default=lambda self: self.env["klodr.program"].search(
                                     [("company_id", "in", self.env.companies.ids)], limit=1))
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    reward_type = fields.Selection(REWARD_TYPES, string="Type", required=True, default=pure.DISCOUNT_FIXED,
                                   tracking=True)
    points_cost = fields.Integer(required=True, default=100, tracking=True)
    value = fields.Monetary(
        currency_field="currency_id", compute="_compute_value", store=True, readonly=False, precompute=True,
        tracking=True,
        help="Money value of the reward: the discount, the price of the product, the credit or the "
             "voucher's face value. For a percentage discount, only informative.")
    discount_percent = fields.Float(string="Discount (%)", digits=(5, 2))
    max_discount = fields.Monetary(string="Maximum Discount", currency_field="currency_id",
                                   help="Cap of a percentage discount; 0 for none.")
    product_id = fields.Many2one("product.product", ondelete="restrict",
                                 help="The product delivered, or given free at checkout.")
    min_tier_id = fields.Many2one(
        "klodr.tier", string="Minimum Tier", ondelete="restrict", domain="[('program_id', '=', program_id)]",
        help="Only members of this tier or a higher one may take the reward.")
    stock = fields.Integer(
        default=-1, tracking=True,
        help="Rewards left to give; -1 for unlimited. Voucher rewards count the codes left in their pool.")
    stock_remaining = fields.Integer(
        string="Left", compute="_compute_stock_remaining",
        help="Rewards left (-1: unlimited); for vouchers, the codes available in the pool.")
    date_from = fields.Date(string="Available From")
    date_to = fields.Date(string="Available Until")
    limit_per_member = fields.Integer(string="Limit per Member", default=0,
                                      help="How many times one member may receive it; 0 for no limit.")
    description = fields.Html(translate=True)
    donation_partner_id = fields.Many2one("res.partner", string="Beneficiary", ondelete="restrict",
                                          help="The charity or cause that receives the donation.")
    delivery_channel = fields.Selection(
        [("sms", "SMS"), ("email", "Email")], string="Send Code By", default="sms",
        help="How a voucher code reaches the member.")
    code_ids = fields.One2many("klodr.reward.code", "reward_id", string="Voucher Codes")
    issue_ids = fields.One2many("klodr.reward.issue", "reward_id", string="Issued")
    code_count = fields.Integer(compute="_compute_code_counts")
    code_available_count = fields.Integer(string="Codes Left", compute="_compute_code_counts")
    issue_count = fields.Integer(string="Times Issued", compute="_compute_issue_count")

    _points_cost_positive = models.Constraint("CHECK(points_cost > 0)", "A reward costs a positive number of points.")
    _value_positive = models.Constraint(
        "CHECK(value IS NULL OR value >= 0)", "The value of a reward cannot be negative.")
    _max_discount_positive = models.Constraint(
        "CHECK(max_discount IS NULL OR max_discount >= 0)", "The maximum discount cannot be negative.")
    _discount_percent_range = models.Constraint(
        "CHECK(discount_percent IS NULL OR (discount_percent >= 0 AND discount_percent <= 100))",
        "A discount percentage is between 0 and 100.")
    _stock_range = models.Constraint("CHECK(stock >= -1)", "Stock is -1 (unlimited), zero or more.")
    _limit_positive = models.Constraint("CHECK(limit_per_member >= 0)", "The limit per member cannot be negative.")
    _date_window = models.Constraint(
        "CHECK(date_from IS NULL OR date_to IS NULL OR date_from <= date_to)",
        "A reward's availability ends after it starts.")

    @api.depends("product_id", "reward_type")
    def _compute_value(self):
        for reward in self:
            if reward.reward_type in (pure.PRODUCT, pure.FREE_PRODUCT) and reward.product_id:
                reward.value = reward.product_id.lst_price
            elif not reward.value:
                reward.value = 0.0

    @api.depends("reward_type", "stock", "code_ids.state")
    def _compute_stock_remaining(self):
        available = self._available_codes()
        for reward in self:
            if reward.reward_type == pure.VOUCHER:
                reward.stock_remaining = available.get(reward._origin.id, 0)
            else:
                reward.stock_remaining = reward.stock

    @api.depends("code_ids.state")
    def _compute_code_counts(self):
        counts = {}
        for reward, state, count in self.env["klodr.reward.code"].sudo()._read_group(
                [("reward_id", "in", self._origin.ids)], ["reward_id", "state"], ["__count"]):
            counts.setdefault(reward.id, {})[state] = count
        for reward in self:
            by_state = counts.get(reward._origin.id, {})
            reward.code_count = sum(by_state.values())
            reward.code_available_count = by_state.get("available", 0)

    @api.depends("issue_ids.state")
    def _compute_issue_count(self):
        counts = {reward.id: count for reward, count in self.env["klodr.reward.issue"].sudo()._read_group(
            [("reward_id", "in", self._origin.ids), ("state", "!=", "cancelled")], ["reward_id"], ["__count"])}
        for reward in self:
            reward.issue_count = counts.get(reward._origin.id, 0)

    def _available_codes(self):
        """Available voucher codes by reward id (counted whoever may read them)."""
        ids = [rid for rid in self._origin.ids if rid]
        if not ids:
            return {}
        return {reward.id: count for reward, count in self.env["klodr.reward.code"].sudo()._read_group(
            [("reward_id", "in", ids), ("state", "=", "available")], ["reward_id"], ["__count"])}

    @api.constrains("reward_type", "value", "discount_percent", "product_id", "donation_partner_id")
    def _check_type_fields(self):
        for reward in self:
            kind = reward.reward_type
            if kind in (pure.DISCOUNT_FIXED, pure.CASHBACK) and reward.value <= 0:
                raise ValidationError(self.env._("Reward %s: enter the amount it is worth.", reward.name))
            if kind == pure.DISCOUNT_PERCENT and not 0 < reward.discount_percent <= 100:
                raise ValidationError(self.env._(
                    "Reward %s: a percentage discount is more than 0 and at most 100%%.", reward.name))
            if kind in (pure.PRODUCT, pure.FREE_PRODUCT) and not reward.product_id:
                raise ValidationError(self.env._("Reward %s: choose the product it gives.", reward.name))
            if kind == pure.DONATION and not reward.donation_partner_id:
                raise ValidationError(self.env._("Reward %s: choose who receives the donation.", reward.name))

    @api.constrains("min_tier_id", "program_id")
    def _check_tier_program(self):
        for reward in self:
            if reward.min_tier_id and reward.min_tier_id.program_id != reward.program_id:
                raise ValidationError(self.env._(
                    "Reward %s: the minimum tier belongs to another program.", reward.name))

    def write(self, vals):
        if "program_id" in vals and any(r.program_id.id != vals["program_id"] for r in self):
            if self.env["klodr.reward.issue"].sudo().search_count([("reward_id", "in", self.ids)], limit=1):
                raise UserError(self.env._("A reward already given to members cannot move to another program."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Eligibility
    # ------------------------------------------------------------------
    @api.model
    def _tier_key(self, tier):
        return (tier.threshold_points, tier.threshold_amount, tier.sequence, tier.id)

    def _tier_ranks(self, program):
        """Rank (0 = lowest) of every tier of ``program`` by tier id, archived tiers included."""
        tiers = self.env["klodr.tier"].sudo().with_context(active_test=False).search(
            [("program_id", "=", program.id)])
        keys = [self._tier_key(t) for t in tiers]
        return {t.id: pure.tier_rank(keys, self._tier_key(t)) for t in tiers}

    @api.model
    def _member_tier(self, member):
        return member.tier_id if "tier_id" in member._fields else self.env["klodr.tier"]

    def _issued_counts(self, member):
        """Issues of these rewards to ``member`` that are not cancelled, by reward id."""
        return {reward.id: count for reward, count in self.env["klodr.reward.issue"].sudo()._read_group(
            [("reward_id", "in", self.ids), ("member_id", "=", member.id), ("state", "!=", "cancelled")],
            ["reward_id"], ["__count"])}

    def _to_pure(self, ranks=None, stock=None):
        self.ensure_one()
        ranks = self._tier_ranks(self.program_id) if ranks is None else ranks
        return pure.Reward(
            reward_type=self.reward_type,
            points_cost=self.points_cost,
            value=Decimal(str(self.value or 0)),
            discount_percent=Decimal(str(self.discount_percent or 0)),
            max_discount=Decimal(str(self.max_discount)) if self.max_discount else None,
            active=self.active,
            date_from=self.date_from or None,
            date_to=self.date_to or None,
            min_tier_rank=ranks.get(self.min_tier_id.id) if self.min_tier_id else None,
            stock=self.stock_remaining if stock is None else stock,
            limit_per_member=self.limit_per_member,
            program_id=self.program_id.id,
        )

    @api.model
    def _member_context(self, member, ranks, issued_count=0):
        tier = self._member_tier(member)
        return pure.MemberContext(
            state=member.state,
            balance=member.balance,
            spendable=member.spendable_points,
            tier_rank=ranks.get(tier.id) if tier else None,
            issued_count=issued_count,
            program_id=member.program_id.id,
        )

    def _refusal_for(self, member, today=None, order_amount=None, check_points=True, stock=None):
        """The pure eligibility check of one reward (a Refusal, or None)."""
        self.ensure_one()
        program = self.program_id
        ranks = self._tier_ranks(program)
        return pure.check_eligibility(
            self._to_pure(ranks, stock=stock),
            self._member_context(member, ranks, self._issued_counts(member).get(self.id, 0)),
            today or fields.Date.context_today(self),
            order_amount=None if order_amount is None else Decimal(str(order_amount)),
            point_value=Decimal(str(program.point_value)),
            min_redeem_balance=program.min_redeem_balance,
            max_redeem_share=Decimal(str(program.max_redeem_share)),
            currency_rounding=Decimal(str(program.currency_id.rounding or 0.01)),
            check_points=check_points,
        )

    def _eligibility(self, member, order_amount=None, today=None):
        """``(eligible, reason)`` of ``member`` for this reward; ``reason`` is an API error code
        (a :class:`~..tools.rewards.Refusal`, whose ``details`` say more), or False."""
        refusal = self._refusal_for(member, today=today, order_amount=order_amount)
        return (True, False) if refusal is None else (False, refusal)

    def _eligibility_by_reward(self, member, order_amount=None, today=None):
        """``{reward id: (eligible, reason)}`` for the whole catalogue a member browses."""
        today = today or fields.Date.context_today(self)
        rank_cache = {}
        issued = self._issued_counts(member)
        result = {}
        for reward in self:
            program = reward.program_id
            if program.id not in rank_cache:
                rank_cache[program.id] = reward._tier_ranks(program)
            ranks = rank_cache[program.id]
            refusal = pure.check_eligibility(
                reward._to_pure(ranks),
                self._member_context(member, ranks, issued.get(reward.id, 0)),
                today,
                order_amount=None if order_amount is None else Decimal(str(order_amount)),
                point_value=Decimal(str(program.point_value)),
                min_redeem_balance=program.min_redeem_balance,
                max_redeem_share=Decimal(str(program.max_redeem_share)),
                currency_rounding=Decimal(str(program.currency_id.rounding or 0.01)),
            )
            result[reward.id] = (True, False) if refusal is None else (False, refusal)
        return result

    def _discount_amount(self, order_amount):
        """Money this reward takes off an order of ``order_amount`` (0 when it does not reduce orders)."""
        self.ensure_one()
        amount = pure.discount_amount(self._to_pure(ranks={}), Decimal(str(order_amount)),
                                      Decimal(str(self.currency_id.rounding or 0.01)))
        return float(amount)

    def _refusal_message(self, refusal):
        reason = refusal.reason
        messages = {
            "member_inactive": self.env._("The member is not active."),
            "inactive": self.env._("The reward %s is archived.", self.name),
            "not_started": self.env._("The reward %s is not available yet.", self.name),
            "ended": self.env._("The reward %s is no longer available.", self.name),
            "other_program": self.env._("The reward %s belongs to another program.", self.name),
            "limit_reached": self.env._("The member already received %s as many times as allowed.", self.name),
            "tier_restricted": self.env._("The reward %(reward)s is reserved for members of tier %(tier)s or above.",
                                          reward=self.name, tier=self.min_tier_id.name),
            "out_of_stock": self.env._("The reward %s is out of stock.", self.name),
            "negative_balance": self.env._("The member's balance is negative: no redemption until it is positive."),
            "below_minimum_redemption": self.env._(
                "A member needs at least %s points to redeem.", self.program_id.min_redeem_balance),
            "not_enough": self.env._("Not enough points: %(needed)s needed, %(spendable)s spendable.",
                                     needed=refusal.details.get("needed"),
                                     spendable=refusal.details.get("spendable")),
            "exceeds_max_redemption": self.env._(
                "At most %s%% of the order can be paid with points.", self.program_id.max_redeem_share),
        }
        return messages.get(reason) or messages.get(refusal.code) or refusal.code

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_import_codes(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Import Voucher Codes"),
            "res_model": "klodr.reward.code.import",
            "view_mode": "form",
            "target": "new",
            "context": {"default_reward_id": self.id},
        }

    def action_open_issues(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_reward_issue_action")
        action["domain"] = [("reward_id", "=", self.id)]
        return action


class KlodrRewardCode(models.Model):
    """A voucher code of a reward's pool (partner gift cards): given once, to one member."""

    _name = "klodr.reward.code"
    _description = "Loyalty Reward Voucher Code"
    _order = "reward_id, id"
    _rec_name = "code"

    reward_id = fields.Many2one("klodr.reward", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="reward_id.company_id", store=True, index=True)
    code = fields.Char(required=True)
    state = fields.Selection([("available", "Available"), ("issued", "Issued")], default="available",
                             required=True, index=True)
    member_id = fields.Many2one("klodr.member", index="btree_not_null", ondelete="restrict", readonly=True)
    issue_id = fields.Many2one("klodr.reward.issue", readonly=True, ondelete="set null")
    issued_date = fields.Datetime(readonly=True)

    _code_unique = models.Constraint("UNIQUE(reward_id, code)", "This code is already in the reward's pool.")
    _available_index = models.Index("(reward_id, id) WHERE state = 'available'")

    @api.constrains("reward_id")
    def _check_voucher(self):
        for code in self:
            if code.reward_id.reward_type != pure.VOUCHER:
                raise ValidationError(self.env._("Only voucher rewards have a pool of codes."))

    def write(self, vals):
        if self.filtered(lambda c: c.state == "issued") and {"code", "reward_id"} & vals.keys():
            raise UserError(self.env._("A code already given to a member cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_issued(self):
        if self.filtered(lambda c: c.state == "issued"):
            raise UserError(self.env._("A code already given to a member cannot be deleted."))


class KlodrRewardIssue(models.Model):
    """A reward given to a member: the stock or voucher code it took, and what became of it.

    Points are not moved here: the redemption that debits them records the issue.
    """

    _name = "klodr.reward.issue"
    _description = "Loyalty Reward Issued"
    _order = "date desc, id desc"

    reward_id = fields.Many2one("klodr.reward", required=True, readonly=True, index=True, ondelete="restrict")
    member_id = fields.Many2one("klodr.member", required=True, readonly=True, index=True, ondelete="restrict")
    program_id = fields.Many2one(related="reward_id.program_id")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    reward_type = fields.Selection(related="reward_id.reward_type")
    points = fields.Integer(readonly=True)
    value = fields.Monetary(currency_field="currency_id", readonly=True)
    code_id = fields.Many2one("klodr.reward.code", string="Voucher Code", readonly=True, ondelete="restrict")
    state = fields.Selection([("issued", "Issued"), ("used", "Used"), ("cancelled", "Cancelled")],
                             default="issued", required=True, readonly=True, index=True)
    source_ref = fields.Char(string="Reference", readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Issued By", readonly=True, default=lambda self: self.env.user)
    delivery_channel = fields.Selection([("sms", "SMS"), ("email", "Email")], string="Code Sent By",
                                        readonly=True)
    delivery_state = fields.Selection(
        [("none", "Nothing to Send"), ("pending", "To Send"), ("queued", "Sent")], default="none",
        readonly=True, help="Voucher codes are sent to the member; the SMS addon sends those pending by SMS.")

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("klodr_reward_issue") and not self.env.su:
            raise UserError(self.env._("Rewards are given through a redemption, not created by hand."))
        return super().create(vals_list)

    def write(self, vals):
        if _ISSUE_FIXED_FIELDS & vals.keys() and not self.env.su:
            raise UserError(self.env._("What an issued reward gave, and to whom, cannot be changed."))
        return super().write(vals)

    @api.model
    def _issue(self, reward, member, source_ref=None, *, points=None, value=None):
        """Give ``reward`` to ``member``: reserve one of its stock, or take one voucher code.

        Checks the reward's own conditions (member active, reward available, tier, stock,
        limit per member) but not the points: the caller's redemption debits them in the
        same transaction. Finite stock is decremented in one conditional UPDATE, and a
        voucher code is taken with ``FOR UPDATE SKIP LOCKED``, so two issues at once never
        share the last unit or the same code.

        :raise LoyaltyError: with the API code (``out_of_stock``, ``tier_restricted``...).
        :return: the ``klodr.reward.issue`` record.
        """
        reward.ensure_one()
        member.ensure_one()
        self.check_access("create")
        if reward.limit_per_member:
            # Serialise the member's issues: under REPEATABLE READ a concurrent one must
            # see ours (or fail and be retried) before it counts against the limit.
            member._lock_for_points()
        # The stock is checked by the UPDATE below: a stale cached count must not refuse.
        refusal = reward._refusal_for(member, check_points=False, stock=-1)
        if refusal:
            raise LoyaltyError(reward._refusal_message(refusal), code=refusal.code, **refusal.details)
        code = self.env["klodr.reward.code"]
        if reward.reward_type == pure.VOUCHER:
            self.env["klodr.reward.code"].flush_model(["state", "reward_id"])
            self.env.cr.execute(SQL(
                """SELECT id FROM klodr_reward_code WHERE reward_id = %s AND state = 'available'
                    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED""", reward.id))
            row = self.env.cr.fetchone()
            if not row:
                raise LoyaltyError(reward._refusal_message(pure.Refusal(pure.OUT_OF_STOCK)), code=pure.OUT_OF_STOCK)
            code = code.sudo().browse(row[0])
        elif reward.stock != pure.UNLIMITED:
            reward.flush_recordset(["stock"])
            self.env.cr.execute(SQL(
                "UPDATE klodr_reward SET stock = stock - 1 WHERE id = %s AND stock > 0 RETURNING stock", reward.id))
            if not self.env.cr.fetchone():
                reward.invalidate_recordset(["stock", "stock_remaining"])
                raise LoyaltyError(reward._refusal_message(pure.Refusal(pure.OUT_OF_STOCK)), code=pure.OUT_OF_STOCK)
            reward.invalidate_recordset(["stock", "stock_remaining"])
        issue = self.with_context(klodr_reward_issue=True).create({
            "reward_id": reward.id,
            "member_id": member.id,
            "company_id": reward.company_id.id,
            "points": reward.points_cost if points is None else points,
            "value": reward.value if value is None else value,
            "code_id": code.id,
            "source_ref": source_ref,
            "delivery_channel": reward.delivery_channel if code else False,
            "delivery_state": "pending" if code else "none",
        })
        if code:
            code.write({"state": "issued", "member_id": member.id, "issue_id": issue.id,
                        "issued_date": issue.date})
            issue._deliver_code()
        reward.invalidate_recordset(["stock_remaining", "code_available_count", "issue_count"])
        return issue

    def _deliver_code(self):
        """Send each issue's voucher code to its member. Email here; the SMS addon sends by SMS.

        Never through the chatter: a code is money, it stays out of message threads.
        """
        for issue in self.filtered(lambda i: i.code_id and i.delivery_state == "pending"):
            member = issue.member_id
            if issue.delivery_channel != "email" or not member.email:
                continue
            body = Markup("<p>%s</p><p><strong>%s</strong></p>") % (
                self.env._("Dear %(name)s, here is your %(reward)s code:",
                           name=member.name, reward=issue.reward_id.name),
                escape(issue.code_id.sudo().code))
            self.env["mail.mail"].sudo().create({
                "subject": self.env._("Your reward: %s", issue.reward_id.name),
                "email_to": member.email,
                "body_html": body,
                "auto_delete": True,
            })
            issue.sudo().delivery_state = "queued"

    def action_mark_used(self):
        for issue in self:
            if issue.state != "issued":
                raise UserError(self.env._("Only an issued reward can be marked used."))
        self.write({"state": "used"})

    def _cancel(self):
        """Cancel issues (a redemption reversed): finite stock comes back; a voucher code
        already sent to the member does not return to the pool."""
        for issue in self:
            if issue.state == "cancelled":
                continue
            reward = issue.reward_id
            if reward.reward_type != pure.VOUCHER:
                reward.flush_recordset(["stock"])
                self.env.cr.execute(SQL(
                    "UPDATE klodr_reward SET stock = stock + 1 WHERE id = %s AND stock >= 0", reward.id))
                reward.invalidate_recordset(["stock", "stock_remaining"])
            issue.write({"state": "cancelled"})

    def action_cancel(self):
        if not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise AccessError(self.env._("Only a Loyalty Manager can cancel an issued reward."))
        self._cancel()
