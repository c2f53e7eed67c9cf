from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import SQL

from ..exceptions import IdempotencyConflict, LoyaltyError
from ..tools import rules as pure_rules
from ..tools.refunds import proportional_points
from .klodr_ledger_award import _invalidate_inverses

# Entry types that count toward the tier window (as in ``klodr.member._window_points``).
WINDOW_TYPES = ("earn", "bonus", "refund")
# cr.cache key: {product id: (category id, category path)} of the products valued in this transaction
PRODUCT_CATEGORIES_KEY = "klodr.product_categories"


class KlodrTransaction(models.Model):
    """A purchase that earned points: one per order reference and program.

    The unique order reference is what makes a second earn for the same order
    impossible; refunds reverse its points in proportion to the refunded amount.
    """

    _name = "klodr.transaction"
    _description = "Loyalty Transaction"
    _order = "date desc, id desc"
    _rec_name = "order_ref"

    program_id = fields.Many2one("klodr.program", required=True, readonly=True, index=True, ondelete="restrict")
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    member_id = fields.Many2one("klodr.member", required=True, readonly=True, index=True, ondelete="restrict")
    order_ref = fields.Char(required=True, readonly=True)
    amount = fields.Monetary(required=True, readonly=True, currency_field="currency_id")
    date = fields.Datetime(required=True, readonly=True)
    store_id = fields.Many2one("klodr.store", readonly=True, ondelete="restrict")
    points_earned = fields.Integer(readonly=True)
    refunded_amount = fields.Monetary(readonly=True, currency_field="currency_id", default=0.0)
    points_reversed = fields.Integer(readonly=True, default=0)
    entry_ids = fields.One2many("klodr.ledger.entry", "source_id", domain=[("source_model", "=", "klodr.transaction")],
                                string="Ledger Entries", readonly=True)
    award_ids = fields.One2many("klodr.ledger.award", "transaction_id", string="Breakdown", readonly=True)
    refund_ids = fields.One2many("klodr.transaction.refund", "transaction_id", string="Refunds", readonly=True)

    _order_ref_unique = models.Constraint(
        "UNIQUE(program_id, order_ref)", "This order already earned points in the program.")
    _amount_positive = models.Constraint("CHECK(amount >= 0 AND refunded_amount >= 0 AND refunded_amount <= amount)",
                                         "Amounts are positive and a refund never exceeds the purchase.")

    @api.model
    def _insert_purchase(self, values, window=None):
        """INSERT one purchase unless its order already earned: the unique ``(program_id, order_ref)``
        index decides, also between concurrent requests. The hot path of every earn skips the
        ORM's create (the caller checked access; ``company_id``, a stored related, is given).

        :param values: ``program_id, company_id, member_id, order_ref, amount, date, store_id,
            points_earned``.
        :param window: ``(since, at)``: also sum, in the same statement, the member's points in the
            tier window before this purchase (``klodr.member._window_points``; the caller holds the
            member's lock, so nothing else can change them).
        :return: ``(record, window points)``: an empty recordset when the order is a duplicate; the
            points are None without ``window``.
        """
        values = dict(values, refunded_amount=0, points_reversed=0)
        now = fields.Datetime.now()
        columns = list(values)
        window_sql = SQL("NULL::int")
        if window:
            self.env["klodr.ledger.entry"].flush_model()
            window_sql = SQL(
                """(SELECT COALESCE(SUM(e.points), 0)::int FROM klodr_ledger_entry e
                     WHERE e.member_id = %s AND e.entry_type IN %s AND e.date >= %s AND e.date <= %s)""",
                values["member_id"], WINDOW_TYPES, window[0], window[1])
        self.env.cr.execute(SQL(
            """INSERT INTO klodr_transaction (%s, create_uid, write_uid, create_date, write_date)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (program_id, order_ref) DO NOTHING RETURNING id, %s""",
            SQL(", ").join(SQL.identifier(c) for c in columns),
            SQL(", ").join(values[c] for c in columns), self.env.uid, self.env.uid, now, now, window_sql))
        row = self.env.cr.fetchone()
        if not row:
            return self.browse(), None
        _invalidate_inverses(self)  # e.g. the member's purchases
        return self.browse(row[0]), row[1]

    @api.model
    def _pure_line(self, product, quantity, amount):
        """An order line for the rule evaluator: the product and every category above it."""
        categories = frozenset(product.categ_id.parent_path.strip("/").split("/")) if product.categ_id else frozenset()
        # what the purchase's lines will store (klodr.transaction.line._record), known now: not read again
        self.env.cr.cache.setdefault(PRODUCT_CATEGORIES_KEY, {})[product.id] = (
            product.categ_id.id or None, product.categ_id.parent_path or None)
        return pure_rules.Line(amount=pure_rules.to_decimal(amount or 0), quantity=Decimal(str(quantity or 0)),
                               product=str(product.id), categories=categories)

    def _refund(self, refund_ref, amount, *, when=None, store=None):
        """Reverse this purchase's points in proportion to ``amount`` refunded, and give back
        the points redeemed on the order in the same proportion.

        Partial refunds add up: when they reach the whole amount, exactly the points earned
        (and redeemed) are reversed. The balance may go below zero (it then blocks
        redemptions). The same ``refund_ref`` again replays the first refund.
        :raise LoyaltyError: ``validation_error`` for a bad amount or an exhausted purchase,
            ``idempotency_key_reused`` for a reference used with another amount.
        """
        self.ensure_one()
        member = self.member_id
        member._lock_for_points()
        self.env.cr.execute(SQL("SELECT id FROM klodr_transaction WHERE id = %s FOR UPDATE", self.id))
        self.invalidate_recordset()
        if not isinstance(refund_ref, str) or not refund_ref.strip() or len(refund_ref) > 128:
            raise LoyaltyError(self.env._("The refund reference is a text of at most 128 characters."),
                               field="refund_ref")
        try:
            amount = pure_rules.to_decimal(amount)
        except (ValueError, ArithmeticError) as exc:
            raise LoyaltyError(self.env._("The refund amount must be a number."), field="amount") from exc
        Refund = self.env["klodr.transaction.refund"].sudo()
        existing = Refund.search([("program_id", "=", self.program_id.id), ("refund_ref", "=", refund_ref)], limit=1)
        if existing:
            if existing.transaction_id != self or Decimal(str(existing.amount)) != amount:
                raise IdempotencyConflict(self.env._("Refund %s was recorded for another amount or order.",
                                                     refund_ref))
            return existing.with_env(self.env)
        rounding = Decimal(str(self.currency_id.rounding or 0.01))
        refunded = Decimal(str(self.refunded_amount or 0)).quantize(rounding)
        total = Decimal(str(self.amount)).quantize(rounding)
        if amount <= 0 or amount.quantize(rounding) != amount or refunded + amount > total:
            raise LoyaltyError(self.env._(
                "The refund must be positive, in the currency's precision, and at most %(left)s.",
                left=total - refunded), field="amount")
        reverse = proportional_points(self.points_earned, total, refunded, amount)
        # Points redeemed on this order come back in the same proportion, redemption by
        # redemption, never more than what is still out (a cancel may have given some back).
        redemptions = self.env["klodr.redemption"].sudo().search([
            ("program_id", "=", self.program_id.id), ("member_id", "=", member.id),
            ("order_ref", "=", self.order_ref), ("state", "=", "confirmed")])
        returns = {}
        for redemption in redemptions:
            share = min(proportional_points(redemption.points, total, refunded, amount),
                        redemption.points - redemption.points_returned)
            if share > 0:
                returns[redemption] = share
        give_back = sum(returns.values())
        refund = Refund.create({"transaction_id": self.id, "refund_ref": refund_ref, "amount": float(amount),
                                "points_reversed": reverse, "points_returned": give_back,
                                "date": (when or fields.Datetime.now()).replace(microsecond=0)})
        ledger = self.env["klodr.ledger.entry"]
        if reverse:
            ledger._post(member, "refund", -reverse, idempotency_key=f"refund:{refund.id}", date=refund.date,
                         store=store or self.store_id, source=self, source_ref=refund_ref,
                         description=self.env._("Refund of %s", self.order_ref))
        if give_back:
            ledger._post(member, "reversal", give_back, idempotency_key=f"refund:{refund.id}:returned",
                         date=refund.date, store=store or self.store_id, source=self, source_ref=refund_ref,
                         description=self.env._("Points redeemed on %s given back", self.order_ref))
            for redemption, share in returns.items():
                redemption.points_returned += share
        self.sudo().write({"refunded_amount": float(refunded + amount),
                           "points_reversed": self.points_reversed + reverse})
        return refund.with_env(self.env)


class KlodrTransactionRefund(models.Model):
    """A refund of (part of) a purchase and the points it moved."""

    _name = "klodr.transaction.refund"
    _description = "Loyalty Refund"
    _order = "id desc"
    _rec_name = "refund_ref"

    transaction_id = fields.Many2one("klodr.transaction", required=True, readonly=True, index=True,
                                     ondelete="restrict")
    program_id = fields.Many2one(related="transaction_id.program_id", store=True)
    company_id = fields.Many2one(related="transaction_id.company_id", store=True)
    member_id = fields.Many2one(related="transaction_id.member_id", store=True)
    currency_id = fields.Many2one(related="transaction_id.currency_id")
    refund_ref = fields.Char(required=True, readonly=True)
    amount = fields.Monetary(required=True, readonly=True, currency_field="currency_id")
    points_reversed = fields.Integer(readonly=True)
    points_returned = fields.Integer(readonly=True)
    date = fields.Datetime(required=True, readonly=True)

    _refund_ref_unique = models.Constraint("UNIQUE(program_id, refund_ref)",
                                           "This refund reference was already used in the program.")
