import contextlib
import secrets
from dataclasses import replace as dataclass_replace
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

from ..exceptions import LoyaltyError
from ..tools import rules as pure_rules
from ..tools.phone import InvalidPhoneNumber, normalize_mobile
from ..tools.tiers import decide_tier, next_tier
from .klodr_transaction import WINDOW_TYPES

MAX_AMOUNT = Decimal("1000000000")

# Referral codes avoid letters and digits that read alike (0/O, 1/I/L).
_REFERRAL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# Written only by the ledger, in SQL, under the member's row lock.
_LEDGER_FIELDS = frozenset({"balance", "chain_head", "points_version"})
# What ``_find_by_mobile_or_code`` reads with the member: what the API's answers and an earn use.
_FOUND_FIELDS = ["name", "code", "mobile", "balance", "state", "program_id", "tier_id", "referred_by_id"]


class KlodrMember(models.Model):
    _name = "klodr.member"
    _description = "Loyalty Member"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_names_search = ["name", "code", "mobile"]

    name = fields.Char(required=True, tracking=True)
    partner_id = fields.Many2one("res.partner", index="btree_not_null", ondelete="set null", tracking=True)
    program_id = fields.Many2one("klodr.program", required=True, index=True, ondelete="restrict")
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    mobile = fields.Char(required=True, tracking=True, help="Stored in E.164 (+919845012345).")
    email = fields.Char()
    code = fields.Char(string="Member Code", required=True, copy=False, readonly=True,
                       default=lambda self: self.env["ir.sequence"].next_by_code("klodr.member") or "/")
    referral_code = fields.Char(copy=False, readonly=True,
                                default=lambda self: self._generate_referral_code())
    store_id = fields.Many2one("klodr.store", string="Enrolled At", ondelete="restrict")
    birthday = fields.Date()
    anniversary = fields.Date()
    state = fields.Selection(
        [("active", "Active"), ("blocked", "Blocked"), ("erased", "Erased")],
        default="active", required=True, tracking=True,
    )
    balance = fields.Integer(readonly=True, default=0, copy=False, aggregator="sum")
    chain_head = fields.Char(readonly=True, copy=False, groups="base.group_system")
    points_version = fields.Integer(readonly=True, copy=False, default=0,
                                    help="Bumped by every change of points or holds (optimistic concurrency).")
    held_points = fields.Integer(compute="_compute_held_points")
    spendable_points = fields.Integer(compute="_compute_held_points")
    consent_membership = fields.Boolean(string="Consent: Programme Membership", default=True)
    consent_membership_date = fields.Datetime(default=fields.Datetime.now)
    consent_sms_promo = fields.Boolean(string="Consent: Promotional SMS")
    consent_sms_promo_date = fields.Datetime()
    tier_id = fields.Many2one("klodr.tier", readonly=True, tracking=True, index="btree_not_null",
                              ondelete="restrict")
    tier_color = fields.Char(related="tier_id.color")
    tier_history_ids = fields.One2many("klodr.tier.history", "member_id", string="Tier Changes")
    referred_by_id = fields.Many2one("klodr.member", readonly=True, index="btree_not_null",
                                     ondelete="restrict")
    transaction_ids = fields.One2many("klodr.transaction", "member_id", string="Purchases")
    entry_ids = fields.One2many("klodr.ledger.entry", "member_id", string="Ledger")
    hold_ids = fields.One2many("klodr.ledger.hold", "member_id", string="Holds")
    lot_ids = fields.One2many("klodr.ledger.lot", "member_id", string="Open Lots",
                              domain=[("remaining", ">", 0)])

    _mobile_unique = models.Constraint(
        "UNIQUE(program_id, mobile)", "This mobile number is already a member of the program.")
    _code_unique = models.Constraint(
        "UNIQUE(program_id, code)", "The member code is already used in this program.")
    _referral_unique = models.Constraint(
        "UNIQUE(program_id, referral_code)", "The referral code is already used in this program.")

    @api.model
    def _generate_referral_code(self):
        return "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(8))

    @api.model
    def _normalize_mobile(self, raw, program=None):
        region = program._phone_region() if program else self.env.company.country_id.code
        try:
            return normalize_mobile(raw, region)
        except InvalidPhoneNumber as exc:
            raise ValidationError(self.env._("Invalid mobile number: %s", exc)) from exc

    @api.model
    def _find_by_mobile_or_code(self, program, text):
        """The member of ``program`` known by this mobile number (any format) or member code."""
        text = (text or "").strip()
        if not text:
            return self.browse()
        mobile = None
        with contextlib.suppress(InvalidPhoneNumber):  # not a number: a member code then
            mobile = normalize_mobile(text, program._phone_region())
        # One ORM query: the record rules (company) apply, and the fields the earn path reads next
        # come with it. Both columns have a unique index per program (a BitmapOr of two probes).
        domain = [("program_id", "=", program.id), ("code", "=", text)]
        if mobile:
            domain = [("program_id", "=", program.id), "|", ("code", "=", text), ("mobile", "=", mobile)]
        return self.search_fetch(domain, _FOUND_FIELDS, limit=1)

    @api.model
    def _search_display_name(self, operator, value):
        """A cashier types the mobile number as the member says it: match its E.164 form too."""
        domain = super()._search_display_name(operator, value)
        if operator in ("ilike", "=", "=ilike") and isinstance(value, str):
            with contextlib.suppress(InvalidPhoneNumber):  # a name or a code, not a number
                domain |= Domain("mobile", "=", normalize_mobile(value, self.env.company.country_id.code))
        return domain

    @api.model_create_multi
    def create(self, vals_list):
        programs = self.env["klodr.program"]
        for vals in vals_list:
            if _LEDGER_FIELDS & vals.keys():
                raise UserError(self.env._("Balances change only through ledger entries."))
            program = programs.browse(vals.get("program_id"))
            if vals.get("mobile"):
                vals["mobile"] = self._normalize_mobile(vals["mobile"], program)
            for consent in ("consent_sms_promo",):
                if vals.get(consent) and not vals.get(f"{consent}_date"):
                    vals[f"{consent}_date"] = fields.Datetime.now()
        return super().create(vals_list)

    def write(self, vals):
        if _LEDGER_FIELDS & vals.keys():
            raise UserError(self.env._("Balances change only through ledger entries."))
        if "program_id" in vals and any(m.program_id.id != vals["program_id"] for m in self):
            if self.env["klodr.ledger.entry"].sudo().search_count([("member_id", "in", self.ids)], limit=1):
                raise UserError(self.env._("A member with ledger entries cannot change program."))
        if vals.get("mobile"):
            programs = self.mapped("program_id")
            if len(programs) > 1:
                raise UserError(self.env._("Change mobile numbers one member at a time."))
            vals["mobile"] = self._normalize_mobile(vals["mobile"], programs)
        for consent in ("consent_membership", "consent_sms_promo"):
            if consent in vals:
                vals.setdefault(f"{consent}_date", fields.Datetime.now())
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ledger(self):
        if self.env["klodr.ledger.entry"].sudo().search_count([("member_id", "in", self.ids)], limit=1):
            raise UserError(self.env._(
                "Members with ledger entries are never deleted: block them, or erase their "
                "personal data."))

    @api.depends("hold_ids.state", "hold_ids.expires_at", "balance")
    def _compute_held_points(self):
        held = self.env["klodr.ledger.hold"]._held_points_by_member(self.ids)
        for member in self:
            member.held_points = held.get(member.id, 0)
            member.spendable_points = member.balance - member.held_points

    def _lock_for_points(self):
        """Lock the member rows and return their fresh ledger state by id.

        The rows are written, not only locked: every change of points or holds
        bumps ``points_version``, so under Odoo's REPEATABLE READ a concurrent
        transaction that touches the same member after ours began fails with a
        serialization error (and is retried by HTTP or cron) instead of acting
        on a stale snapshot of the member's entries and holds.
        """
        if not self.ids:
            return {}
        ids = sorted(self.ids)
        if len(ids) > 1:  # one lock order for every caller: no deadlock between batches
            self.env.cr.execute("SELECT id FROM klodr_member WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids])
        self.env.cr.execute(
            "UPDATE klodr_member SET points_version = points_version + 1 WHERE id = ANY(%s) "
            "RETURNING id, balance, chain_head, state", [ids])
        state = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        self.invalidate_recordset(["points_version"])
        return state

    # ------------------------------------------------------------------
    # Enrollment, earning and tiers
    # ------------------------------------------------------------------
    @api.model
    def _enroll(self, program, vals, referral_code=None, store=None):
        """Create a member, then give the sign-up and referral points of ``program``'s rules.

        :raise LoyaltyError: ``member_exists`` (with the member) when the mobile number is enrolled;
            ``validation_error`` for an unknown or own referral code.
        """
        mobile = self._normalize_mobile(vals.get("mobile") or "", program)
        existing = self.sudo().search([("program_id", "=", program.id), ("mobile", "=", mobile)], limit=1)
        if existing:
            raise LoyaltyError(self.env._("%s is already a member.", mobile), code="member_exists",
                               member_id=existing.id)
        referrer = self.browse()
        if referral_code:
            referrer = self.sudo().search([("program_id", "=", program.id),
                                           ("referral_code", "=", referral_code.strip().upper())], limit=1)
            if not referrer or referrer.state != "active":
                raise LoyaltyError(self.env._("Unknown referral code %s.", referral_code), field="referral_code")
            if referrer.mobile == mobile or (vals.get("email") and referrer.email == vals.get("email")):
                raise LoyaltyError(self.env._("A member cannot refer themselves."), field="referral_code")
        member = self.create(dict(vals, program_id=program.id, mobile=mobile, store_id=store.id if store else False,
                                  referred_by_id=referrer.id or False))
        member._earn_event("signup", ref=f"member:{member.id}", store=store, missing_ok=True)
        if referrer:
            member._earn_event("referral_referee", ref=f"member:{member.id}", store=store, missing_ok=True)
        member._klodr_notify("welcome")
        return member

    def _klodr_notify(self, event, **values):
        """Tell the member something happened: a hook for the channel addons (SMS, email...).

        ``event`` is one of ``welcome``, ``earned`` (points, transaction), ``redeemed`` (points,
        redemption), ``tier_change`` (from_tier, to_tier), ``birthday``, ``anniversary`` (points).
        The base addon has no channel: nothing is sent.
        """
        return False

    def _klodr_notify_later(self, event, **values):
        """``_klodr_notify(event, **values)`` after this transaction, by the notification queue's cron
        (``klodr.notify.queue``): the request that caused it does not wait for templates and payloads.

        Queued in this transaction (rolled back with it), only for the members some channel would
        tell (``_klodr_notify_wanted``), with a snapshot of what they are told (``_klodr_notify_snapshot``).
        """
        members = self.filtered(lambda member: member._klodr_notify_wanted(event))
        if members:
            self.env["klodr.notify.queue"]._enqueue(members, event, values)

    def _klodr_notify_wanted(self, event):
        """Whether a channel (SMS, webhooks...) would tell this member about ``event``: channel addons
        extend this. The base addon has none."""
        return False

    def _klodr_notify_snapshot(self):
        """What a deferred notification must report as it is now (the balance and tier of this member)."""
        self.ensure_one()
        return {"balance": self.balance, "tier": self.tier_id}

    def _program_tz(self):
        """The program's timezone, from the program's cached settings (no read of the program row)."""
        program = self.program_id
        if isinstance(program.id, int):
            return pytz.timezone(program._ledger_settings()[3])
        return pytz.timezone(program.tz or "UTC")  # a new record (rule simulator)

    def _local_now(self, when=None):
        """``when`` (naive UTC, default now) in the program's timezone, naive."""
        when = when or fields.Datetime.now()
        return pytz.utc.localize(when).astimezone(self._program_tz()).replace(tzinfo=None)

    def _period_starts(self, local_now):
        """Start of the member's local day and month, as naive UTC (award dates are UTC)."""
        tz = self._program_tz()
        day = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        return [tz.localize(d).astimezone(pytz.utc).replace(tzinfo=None) for d in (day, month)]

    def _rule_context(self, rules, local_now):
        """The pure member context: tier, multiplier and the usage of the capped ``rules``
        (``klodr.earn.rule`` records, or the ids of the capped ones)."""
        if isinstance(rules, models.BaseModel):
            rule_ids = rules.filtered(lambda r: r.cap_day or r.cap_month or r.cap_lifetime).ids
        else:
            rule_ids = list(rules)
        usage = {}
        if rule_ids:
            day_start, month_start = self._period_starts(local_now)
            usage = self.env["klodr.ledger.award"]._usage(self.id, rule_ids, day_start, month_start)
        # The tier's multiplier from the program's cached tier table (archived tiers included).
        tier_id = self.tier_id.id
        info = self.program_id._tier_table()["by_id"].get(tier_id) if tier_id else None
        return pure_rules.Member(
            tier=tier_id or None,
            multiplier=Decimal(str(info["multiplier"] if info else 1)),
            usage={rule_id: pure_rules.Usage(*values) for rule_id, values in usage.items()},
        )

    def _in_segment(self, domain):
        partner = self.partner_id
        return bool(partner) and bool(self.env["res.partner"].sudo().search_count(
            Domain("id", "=", partner.id) & Domain(domain), limit=1))

    def _evaluate(self, order=None, event=None):
        """What the program's rules and running campaigns give this member (nothing is written).

        The rules come compiled from the program's cache; only what depends on the member
        (segments, cap usage, promo codes already used) is read here, and only for the rules
        that can apply: the order rules for an order, the event's own rules for an event.
        """
        self.ensure_one()
        program = self.program_id
        rules, segments, campaigns = program._compiled_rules()
        if order is not None:
            rules = [rule for rule in rules if rule.kind != pure_rules.KIND_EVENT]
        elif event is not None:
            rules = [rule for rule in rules if rule.kind == pure_rules.KIND_EVENT and rule.event == event.name]
        rules = [dataclass_replace(rule, in_segment=self._in_segment(segments[rule.id]))
                 if rule.id in segments else rule for rule in rules]
        if order is not None and order.promo_codes:
            codes = {code.upper() for code in order.promo_codes}
            records = self.env["klodr.campaign"].browse(
                [c.id for c in campaigns if c.promo_code and c.promo_code.upper() in codes])
            used = {c.id for c in records if c._to_pure(self).promo_used}
            campaigns = [dataclass_replace(c, promo_used=c.id in used) for c in campaigns]
        capped = [r.id for r in rules if r.caps.day or r.caps.month or r.caps.lifetime]
        when = (order or event).when
        return pure_rules.evaluate(rules, self._rule_context(capped, when), order=order, event=event,
                                   campaigns=campaigns)

    def _write_awards(self, evaluation, *, key, date, store=None, source=None, source_ref=None, transaction=None,
                      locked=None, new_keys=False):
        """Post the ledger entries an evaluation describes (one per type, one per promo code) and their
        breakdown lines. Idempotent by ``key``.

        :param locked: the member's state from ``_lock_for_points()`` when the caller locked it (see
            ``klodr.ledger.entry._post``): kept current.
        :param new_keys: ``key`` names a record created in this transaction (a new purchase): its
            entries are new, no replay is looked for (promo code entries still are, they are once
            per member), and the transaction's breakdown is exactly the lines written here.
        """
        ledger = self.env["klodr.ledger.entry"]
        campaigns = self.env["klodr.campaign"].browse([a.campaign_id for a in evaluation.awards if a.campaign_id])
        promo = {c.id: c for c in campaigns if c.promo_code}
        groups = {}
        for award in evaluation.awards:
            if award.campaign_id in promo:
                group_key = promo[award.campaign_id]._promo_key(self)
            else:
                group_key = f"{key}:{award.entry_type}"
            groups.setdefault((group_key, award.entry_type), []).append(award)
        entries = ledger
        rows = []
        company_id = self.program_id._ledger_settings()[0]
        for (entry_key, entry_type), awards in groups.items():
            points = sum(a.points for a in awards)
            if points <= 0:
                continue
            new_entry = new_keys and entry_key.startswith(f"{key}:")
            entry = ledger._post(self, entry_type, points, idempotency_key=entry_key, date=date, store=store,
                                 source=source, source_ref=source_ref,
                                 description=", ".join(a.label for a in awards), locked=locked, new_key=new_entry)
            entries |= entry
            if new_entry or not entry.award_ids:
                rows += [{"entry_id": entry.id, "member_id": self.id, "company_id": company_id,
                          "transaction_id": transaction.id if transaction else False, "rule_id": a.rule_id,
                          "campaign_id": a.campaign_id, "label": a.label, "points": a.points, "date": date}
                         for a in awards]
        lines = self.env["klodr.ledger.award"].sudo()._insert_rows(rows) if rows else self.env["klodr.ledger.award"]
        if transaction and new_keys:
            transaction._update_cache({"award_ids": lines.filtered(lambda a: a.transaction_id == transaction)},
                                      validate=False)
        return entries

    def _event_entries(self, event, ref):
        """The entries an event reference already gave this member (empty when none)."""
        key = f"event:{event}:{self.id}:{ref}"
        return self.env["klodr.ledger.entry"].sudo().search(
            [("program_id", "=", self.program_id.id), ("idempotency_key", "in", [f"{key}:earn", f"{key}:bonus"])])

    def _earn_event(self, event, *, ref, when=None, store=None, missing_ok=False):
        """Points of the ``event`` rules (check-in, review, birthday, ...), once per ``ref``.

        :raise LoyaltyError: ``cap_reached`` over a rule's cap; ``validation_error`` when no rule of
            the program handles this event (unless ``missing_ok``).
        """
        self.ensure_one()
        key = f"event:{event}:{self.id}:{ref}"
        existing = self._event_entries(event, ref)
        if existing:
            return existing.with_env(self.env)
        if not self.program_id.rule_ids.filtered(lambda r: r.active and r.kind == "event" and r.event_name == event):
            if missing_ok:
                return self.env["klodr.ledger.entry"]
            raise LoyaltyError(self.env._("No rule of the program gives points for the event %s.", event),
                               field="event")
        self._lock_for_points()
        date = (when or fields.Datetime.now()).replace(microsecond=0)
        try:
            event_at = pure_rules.Event(event, self._local_now(date), store.id if store else None)
            evaluation = self._evaluate(event=event_at)
        except pure_rules.RuleError as exc:
            raise LoyaltyError(str(exc), code=exc.code) from exc
        entries = self._write_awards(evaluation, key=key, date=date, store=store, source_ref=ref)
        self._recompute_tier(reason=self.env._("Event %s", event))
        return entries

    def _earn_order(self, amount, *, order_ref, lines=(), when=None, store=None, promo_codes=()):
        """Record a purchase and give the points the program's rules and campaigns say.

        The tier in force before the purchase multiplies its points; they then count toward the
        next tier. The first purchase of a referred member rewards the referrer. The member is
        locked once; the order reference is unique per program by a database index, which also
        decides between concurrent requests.
        :return: the ``klodr.transaction`` (what it earned, its breakdown, and the member's new
            balance and tier are in the cache).
        :raise LoyaltyError: ``duplicate_order`` when the order already earned, ``member_inactive``.
        """
        self.ensure_one()
        program = self.program_id
        table = program._tier_table()  # cached: tiers, tier window, program type
        try:
            amount = pure_rules.to_decimal(amount)
        except (ValueError, ArithmeticError) as exc:
            raise LoyaltyError(self.env._("The amount must be a number."), field="amount") from exc
        if amount < 0 or amount > MAX_AMOUNT:
            raise LoyaltyError(self.env._("The amount must be between 0 and %s.", MAX_AMOUNT), field="amount")
        locked = self._lock_for_points()
        if locked[self.id][2] != "active":
            raise LoyaltyError(self.env._("Member %s is not active.", self.code), code="member_inactive")
        Transaction = self.env["klodr.transaction"].sudo()
        date = (when or fields.Datetime.now()).replace(microsecond=0)
        first_purchase = bool(self.referred_by_id) and not Transaction.search_count(
            [("member_id", "=", self.id)], limit=1)
        order = pure_rules.Order(
            amount=amount, when=self._local_now(date), lines=tuple(lines), store=store.id if store else None,
            promo_codes=frozenset(c.strip().upper() for c in promo_codes if c and c.strip()))
        evaluation = self._evaluate(order=order)
        values = {"program_id": program.id, "company_id": program._ledger_settings()[0], "member_id": self.id,
                  "order_ref": order_ref, "amount": float(amount), "date": date,
                  "store_id": store.id if store else None, "points_earned": evaluation.points}
        # The tier window's points come with the purchase's INSERT (one round trip less). Not with
        # promo codes: a promo code's entry is once per member, it may be an earlier one.
        at = fields.Datetime.now()
        window_since = at - relativedelta(months=table["window_months"]) \
            if table["levels"] and not order.promo_codes else None
        transaction, window = Transaction._insert_purchase(values, window=(window_since, at) if window_since else None)
        if not transaction:
            raise LoyaltyError(self.env._("Order %s already earned points.", order_ref), code="duplicate_order")
        entries = self._write_awards(evaluation, key=f"order:{transaction.id}", date=date, store=store,
                                     source=transaction, source_ref=order_ref, transaction=transaction,
                                     locked=locked, new_keys=True)
        # What this transaction just wrote, in the cache: nothing to read back.
        transaction._update_cache({name: values[name] or False for name in (
            "program_id", "company_id", "member_id", "order_ref", "date", "store_id", "points_earned")},
            validate=False)
        self._update_cache({"balance": locked[self.id][0]}, validate=False)
        if window is not None and window_since <= date <= at:
            # the window summed before this purchase, plus the entries it just wrote (all new: no
            # promo code), as _window_points would count them
            window += sum(entry.points for entry in entries if entry.entry_type in WINDOW_TYPES)
        self._recompute_tier(reason=self.env._("Purchase %s", order_ref), at=at,
                             window={self.id: window} if window is not None else None)
        if table["program_type"] == "stamps":
            self._complete_stamp_cards(store=store, source_ref=order_ref)
        if evaluation.points:
            self._klodr_notify_later("earned", points=evaluation.points, transaction=transaction)
        if first_purchase:
            self.referred_by_id._earn_event("referral_referrer", ref=f"member:{self.id}", store=store,
                                            missing_ok=True)
        return transaction.with_env(self.env)

    def _complete_stamp_cards(self, store=None, source_ref=None):
        """Every full card (stamps are the program's points) becomes its reward, at once and once.

        :return: the ``klodr.reward.issue`` records created.
        """
        self.ensure_one()
        program = self.program_id
        size = program.stamps_per_card
        ledger = self.env["klodr.ledger.entry"]
        issues = self.env["klodr.reward.issue"]
        prefix = f"stampcard:{self.id}:"
        done = ledger.sudo().search_count([("program_id", "=", program.id), ("idempotency_key", "=like", f"{prefix}%")])
        while self.spendable_points >= size:
            key = f"{prefix}{done + 1}"
            try:
                with self.env.cr.savepoint():
                    ledger._post(self, "redeem", -size, idempotency_key=key, store=store, source_ref=source_ref,
                                 description=self.env._("Stamp card %s full", done + 1))
                    if program.stamp_reward_id:
                        issues |= issues._issue(program.stamp_reward_id, self, source_ref=key, points=size)
            except LoyaltyError as exc:
                # The purchase keeps its stamps; the full card waits for the reward to be available.
                self.message_post(body=self.env._("Stamp card full, reward not issued yet: %s", exc))
                break
            done += 1
            self.invalidate_recordset(["held_points", "spendable_points"])
        return issues

    # Tiers ------------------------------------------------------------
    def _window_points(self, at=None):
        """Points earned in the program's tier window: earn + bonus - refunds, by member id."""
        if not self:
            return {}
        at = at or fields.Datetime.now()
        start = {}
        for member in self:
            start[member.id] = at - relativedelta(months=member.program_id._tier_table()["window_months"])
        self.env["klodr.ledger.entry"].flush_model()
        self.env.cr.execute(SQL(
            """SELECT e.member_id, COALESCE(SUM(e.points), 0)
                 FROM klodr_ledger_entry e
                 JOIN unnest(%s::int[], %s::timestamp[]) AS w(member_id, since) ON w.member_id = e.member_id
                WHERE e.entry_type IN ('earn', 'bonus', 'refund') AND e.date >= w.since AND e.date <= %s
                GROUP BY e.member_id""",
            list(start), list(start.values()), at))
        return dict(self.env.cr.fetchall())

    def _window_amounts(self, at=None):
        if not self:
            return {}
        at = at or fields.Datetime.now()
        since = {m.id: at - relativedelta(months=m.program_id._tier_table()["window_months"]) for m in self}
        self.env["klodr.transaction"].flush_model()
        self.env.cr.execute(SQL(
            """SELECT t.member_id, COALESCE(SUM(t.amount - COALESCE(t.refunded_amount, 0)), 0)
                 FROM klodr_transaction t
                 JOIN unnest(%s::int[], %s::timestamp[]) AS w(member_id, since) ON w.member_id = t.member_id
                WHERE t.date >= w.since AND t.date <= %s GROUP BY t.member_id""",
            list(since), list(since.values()), at))
        return {k: Decimal(str(v)) for k, v in self.env.cr.fetchall()}

    def _recompute_tier(self, allow_downgrade=False, reason=None, at=None, window=None):
        """Move members to the tier their window earns: up at once, down only when allowed (nightly).

        :param window: ``{member id: points in the tier window at ``at``}`` when the caller has them
            (an earn sums them in its purchase's INSERT): not read again.
        """
        with_tiers = self.filtered(lambda m: m.program_id._tier_table()["levels"])
        if not with_tiers:
            return []
        points = window if window is not None else with_tiers._window_points(at)
        amounts = with_tiers._window_amounts(at) \
            if any(m.program_id._tier_table()["uses_amount"] for m in with_tiers) else {}
        history = []
        for member in with_tiers:
            levels = list(member.program_id._tier_table()["levels"])
            by_id = {level.id: level for level in levels}
            current = by_id.get(member.tier_id.id)
            window = points.get(member.id, 0)
            target = decide_tier(levels, current, window, amounts.get(member.id, Decimal(0)), allow_downgrade)
            if target is not None and target != current:
                history.append({"member_id": member.id, "from_tier_id": member.tier_id.id,
                                "to_tier_id": target.id, "window_points": window,
                                "reason": reason or (self.env._("Nightly recompute") if allow_downgrade else False)})
                from_tier = member.tier_id
                member.sudo().tier_id = target.id
                if from_tier:
                    member._klodr_notify_later("tier_change", from_tier=from_tier, to_tier=member.tier_id)
        if history:
            self.env["klodr.tier.history"].sudo().create(history)
        return history

    @api.model
    def _cron_recompute_tiers(self):
        self._recompute_all_tiers(progress=self.env["ir.cron"]._commit_progress)

    @api.model
    def _recompute_all_tiers(self, batch_size=2000, progress=None):
        """Nightly: every member of a program with tiers, downgrades included, in batches
        (``progress``, the cron's ``_commit_progress``, commits after each)."""
        members = self.sudo().search([("state", "=", "active"), ("program_id.tier_ids", "!=", False)], order="id")
        for start in range(0, len(members), batch_size):
            members[start:start + batch_size]._recompute_tier(allow_downgrade=True)
            if progress:
                progress(min(batch_size, len(members) - start),
                         remaining=max(len(members) - start - batch_size, 0))

    def _next_tier(self):
        """``(tier record, points needed)`` or ``(empty, 0)`` at the top."""
        self.ensure_one()
        levels = list(self.program_id._tier_table()["levels"])
        current = next((level for level in levels if level.id == self.tier_id.id), None)
        found = next_tier(levels, current, self._window_points().get(self.id, 0))
        if not found:
            return self.env["klodr.tier"], 0
        return self.env["klodr.tier"].browse(found[0].id), found[1]

    @api.model
    def _cron_birthdays(self):
        self._grant_birthdays(progress=self.env["ir.cron"]._commit_progress)

    @api.model
    def _grant_birthdays(self, progress=None):
        """The birthday and anniversary rules, once a year per member, on the day in the program's timezone."""
        programs = self.env["klodr.program"].sudo().search([]).filtered(  # pylint: disable=no-search-all
            lambda p: p.rule_ids.filtered(lambda r: r.active and r.event in ("birthday", "anniversary")))
        self.flush_model(["birthday", "anniversary", "state", "program_id"])
        for program in programs:
            today = self._local_today(program)
            for event, field_name in (("birthday", "birthday"), ("anniversary", "anniversary")):
                if not program.rule_ids.filtered(lambda r, e=event: r.active and r.event == e):
                    continue
                self.env.cr.execute(SQL(
                    """SELECT id FROM klodr_member
                        WHERE program_id = %s AND state = 'active' AND %s IS NOT NULL
                          AND EXTRACT(MONTH FROM %s) = %s AND EXTRACT(DAY FROM %s) = %s""",
                    program.id, SQL.identifier(field_name), SQL.identifier(field_name), today.month,
                    SQL.identifier(field_name), today.day))
                for (member_id,) in self.env.cr.fetchall():
                    member = self.browse(member_id)
                    if member._event_entries(event, str(today.year)):
                        continue  # already wished this year
                    try:
                        entries = member._earn_event(event, ref=str(today.year), missing_ok=True)
                    except LoyaltyError:
                        continue  # capped: nothing to give this year
                    member._klodr_notify(event, points=sum(entries.mapped("points")))
                if progress:
                    progress(0)

    @api.model
    def _local_today(self, program):
        return pytz.utc.localize(fields.Datetime.now()).astimezone(pytz.timezone(program.tz or "UTC")).date()

    def _statement(self, date_from=None, date_to=None):
        """The member's ledger between two dates (inclusive, program timezone): opening and
        closing balances and the entries with their running balance."""
        self.ensure_one()
        tz = pytz.timezone(self.program_id.tz or "UTC")

        def utc(day, end=False):
            moment = datetime.combine(day, time.max if end else time.min)
            return tz.localize(moment).astimezone(pytz.utc).replace(tzinfo=None)

        Entry = self.env["klodr.ledger.entry"]
        domain = Domain("member_id", "=", self.id)
        if date_from:
            domain &= Domain("date", ">=", utc(date_from))
        if date_to:
            domain &= Domain("date", "<=", utc(date_to, end=True))
        entries = Entry.search(domain, order="id")
        opening = entries[:1].balance_after - entries[:1].points if entries else (
            Entry.search(Domain("member_id", "=", self.id) & Domain("date", "<", utc(date_from)),
                         order="id desc", limit=1).balance_after if date_from else 0)
        return {"opening_balance": opening,
                "closing_balance": entries[-1:].balance_after if entries else opening,
                "entries": entries}

    def _expiring(self, days=90):
        """``[(date, points)]`` of the member's points expiring within ``days``, by date."""
        self.ensure_one()
        today = self._local_today(self.program_id)
        self.env["klodr.ledger.entry"].flush_model()
        self.env.cr.execute(SQL(
            """SELECT expiry_date, SUM(remaining) FROM klodr_ledger_lot
                WHERE member_id = %s AND remaining > 0 AND expiry_date >= %s AND expiry_date <= %s
                GROUP BY expiry_date ORDER BY expiry_date""",
            self.id, today, today + timedelta(days=days)))
        return [(day, int(points)) for day, points in self.env.cr.fetchall()]

    def action_open_ledger(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_ledger_entry_action")
        action["domain"] = [("member_id", "=", self.id)]
        action["context"] = {"search_default_member_id": self.id}
        return action

    def action_adjust(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "klodr.adjust.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_member_id": self.id},
        }
