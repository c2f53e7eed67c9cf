"""Webhooks: signed JSON POSTs to the integrations of a company, queued in the database.

Business code only inserts ``klodr.webhook.delivery`` rows, in its own transaction (a sale that
rolls back queues nothing); a cron sends them, one committed transaction per delivery, retries
failures with the backoff of ``tools/webhooks.py`` and records every answer.
"""

import contextlib
import logging
from datetime import timedelta
from uuid import uuid4

import psycopg2.errors
import requests

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, ormcache

from ..tools import webhooks as pure

_logger = logging.getLogger(__name__)

# The member notifications of ``klodr.member._klodr_notify`` that are webhook events.
NOTIFY_EVENTS = {
    "welcome": "member.enrolled",
    "earned": "points.earned",
    "redeemed": "points.redeemed",
    "tier_change": "tier.changed",
}
EXPIRING_EVENT = "points.expiring"
TIMEOUT = (5, 10)  # seconds: connect, read
USER_AGENT = "Klodr-Webhooks/1.0"
ANSWER_BYTES = 4 * pure.RESPONSE_LIMIT  # read no more of an answer than this
BATCH_SIZE = 50
KEEP_DAYS = 90  # sent and dead deliveries are kept this long
STATES = [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed, will retry"), ("dead", "Dead")]
_DUE_STATES = ("queued", "failed")


class KlodrWebhookEvent(models.Model):
    """The events a webhook can subscribe to (data records, one per code of ``tools/webhooks.EVENTS``)."""

    _name = "klodr.webhook.event"
    _description = "Loyalty Webhook Event"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, readonly=True)
    sequence = fields.Integer(default=10)
    description = fields.Char(translate=True)

    _code_unique = models.Constraint("UNIQUE(code)", "Each webhook event code exists once.")


class KlodrWebhook(models.Model):
    _name = "klodr.webhook"
    _description = "Loyalty Webhook"
    _inherit = ["mail.thread", "klodr.cached.config"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, index=True, tracking=True,
                                 default=lambda self: self.env.company)
    program_ids = fields.Many2many(
        "klodr.program", string="Programs", domain="[('company_id', '=', company_id)]",
        help="Only events of these programs are sent. Empty: every program of the company.")
    url = fields.Char(string="URL", required=True, tracking=True,
                      help="Receives a signed POST per event. https, or http to 127.0.0.1/localhost only.")
    event_ids = fields.Many2many("klodr.webhook.event", string="Events", required=True)
    secret = fields.Char(
        string="Signing Secret", required=True, readonly=True, copy=False,
        groups="loyalty_klodr.group_loyalty_manager", default=lambda self: pure.generate_secret(),
        help="Key of the HMAC-SHA256 signature in the X-Klodr-Signature header.")
    expiring_days = fields.Integer(
        string="Expiring Notice (days)", default=7,
        help="points.expiring is sent once per member and expiry date, this many days ahead at most.")
    delivery_ids = fields.One2many("klodr.webhook.delivery", "webhook_id", string="Deliveries")
    delivery_count = fields.Integer(compute="_compute_delivery_counts")
    sent_count = fields.Integer(compute="_compute_delivery_counts")
    pending_count = fields.Integer(compute="_compute_delivery_counts")
    dead_count = fields.Integer(compute="_compute_delivery_counts")

    _expiring_days_range = models.Constraint(
        "CHECK(expiring_days BETWEEN 1 AND 60)", "The expiring notice is between 1 and 60 days.")

    @api.depends("delivery_ids.state")
    def _compute_delivery_counts(self):
        counts = {}
        if self.ids:
            for webhook, state, count in self.env["klodr.webhook.delivery"].sudo()._read_group(
                    [("webhook_id", "in", self.ids)], ["webhook_id", "state"], ["__count"]):
                counts[webhook.id, state] = count
        for webhook in self:
            by_state = {state: counts.get((webhook.id, state), 0) for state, _label in STATES}
            webhook.delivery_count = sum(by_state.values())
            webhook.sent_count = by_state["sent"]
            webhook.pending_count = by_state["queued"] + by_state["failed"]
            webhook.dead_count = by_state["dead"]

    @api.constrains("url")
    def _check_url(self):
        for webhook in self:
            problem = pure.url_problem(webhook.url)
            if problem:
                raise ValidationError(self.env._("Webhook %(name)s: %(problem)s.", name=webhook.name, problem=problem))

    @api.constrains("event_ids")
    def _check_events(self):
        if any(not webhook.event_ids for webhook in self):
            raise ValidationError(self.env._("Choose at least one event for the webhook."))

    @api.constrains("program_ids", "company_id")
    def _check_programs_company(self):
        for webhook in self:
            if webhook.program_ids.filtered(lambda p, c=webhook.company_id: p.company_id != c):
                raise ValidationError(self.env._("The programs of a webhook belong to its company."))

    # The subscriptions are read on every purchase: cached, cleared when a webhook changes
    # (klodr.cached.config).
    @api.model
    @ormcache("company_id")
    def _subscriptions(self, company_id):
        """``((webhook id, event codes, program ids or empty for all), ...)`` of the company's active webhooks."""
        webhooks = self.sudo().search([("company_id", "=", company_id)])
        return tuple((w.id, frozenset(w.event_ids.mapped("code")), frozenset(w.program_ids.ids)) for w in webhooks)

    @api.model
    def _subscribed(self, event, program):
        """The active webhooks of ``program``'s company subscribed to ``event`` for it."""
        ids = [webhook_id for webhook_id, events, program_ids in self._subscriptions(program.company_id.id)
               if event in events and (not program_ids or program.id in program_ids)]
        return self.sudo().browse(ids).exists().filtered("active") if ids else self.sudo().browse()

    # ------------------------------------------------------------------
    # Queue
    # ------------------------------------------------------------------
    @api.model
    def _enqueue(self, event, program, data, *, member=None, dedupe_key=None, webhooks=None):
        """Queue ``event`` for the webhooks subscribed to it (or for ``webhooks``): rows only, no HTTP.

        :return: the ``klodr.webhook.delivery`` records created.
        """
        return self._enqueue_many(event, program, [(data, member, dedupe_key)], webhooks=webhooks)

    @api.model
    def _enqueue_many(self, event, program, items, *, webhooks=None):
        """``items``: ``[(data, member or None, dedupe key or None)]``, all of ``program``."""
        Delivery = self.env["klodr.webhook.delivery"].sudo()
        if webhooks is None:
            webhooks = self._subscribed(event, program) if program else self.browse()
        if not webhooks or not items:
            return Delivery
        now = fields.Datetime.now()
        created_at = pure.iso_utc(now)
        vals_list = []
        for webhook in webhooks.sudo():
            for data, member, dedupe_key in items:
                uid = str(uuid4())
                payload = {"id": uid, "event": event, "created_at": created_at,
                           "company_id": webhook.company_id.id, "program_id": program.id if program else None,
                           "data": data}
                vals_list.append({
                    "uuid": uid, "webhook_id": webhook.id, "event": event, "payload": pure.dumps(payload),
                    "program_id": program.id if program else False, "member_id": member.id if member else False,
                    "dedupe_key": dedupe_key or False, "state": "queued", "next_attempt_at": now,
                })
        deliveries = Delivery.create(vals_list)
        self._trigger_delivery_at_commit()
        return deliveries

    @api.model
    def _trigger_delivery_at_commit(self):
        """Wake the delivery cron once the transaction that queued commits (nothing when it rolls back)."""
        precommit = self.env.cr.precommit
        if precommit.data.get("klodr.webhook.trigger"):
            return
        precommit.data["klodr.webhook.trigger"] = True

        def trigger():
            cron = self.env.ref("loyalty_klodr.ir_cron_klodr_webhook_deliver", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()

        precommit.add(trigger)

    # points.expiring ----------------------------------------------------
    @api.model
    def _cron_enqueue_expiring(self):
        self._enqueue_expiring(progress=self.env["ir.cron"]._commit_progress)

    @api.model
    def _enqueue_expiring(self, progress=None):
        """For every webhook on ``points.expiring``: members whose points expire within its notice
        (program's local dates), once per member and expiry date.

        :return: the deliveries queued.
        """
        Delivery = self.env["klodr.webhook.delivery"].sudo()
        Member = self.env["klodr.member"].sudo()
        Lot = self.env["klodr.ledger.lot"].sudo()
        queued = Delivery
        webhooks = self.sudo().search([("event_ids.code", "=", EXPIRING_EVENT)])
        for index, webhook in enumerate(webhooks):
            if webhook.program_ids:
                programs = webhook.program_ids.filtered("active")
            else:
                programs = self.env["klodr.program"].sudo().search([("company_id", "=", webhook.company_id.id)])
            for program in programs:
                today = Member._local_today(program)
                groups = Lot._read_group(
                    [("program_id", "=", program.id), ("remaining", ">", 0), ("expiry_date", ">=", today),
                     ("expiry_date", "<=", today + timedelta(days=webhook.expiring_days)),
                     ("member_id.state", "=", "active")],
                    ["member_id", "expiry_date:day"], ["remaining:sum"])
                wanted = {f"{EXPIRING_EVENT}:{member.id}:{day.isoformat()}": (member, day, int(points or 0))
                          for member, day, points in groups if points}
                if not wanted:
                    continue
                done = set(Delivery.search([("webhook_id", "=", webhook.id),
                                            ("dedupe_key", "in", list(wanted))]).mapped("dedupe_key"))
                items = []
                for key, (member, day, points) in wanted.items():
                    if key in done:
                        continue
                    data = {"member": member._klodr_webhook_member(), "expiry_date": day.isoformat(),
                            "points": points, "days_left": (day - today).days}
                    items.append((data, member, key))
                queued |= self._enqueue_many(EXPIRING_EVENT, program, items, webhooks=webhook)
            if progress:
                progress(1, remaining=len(webhooks) - index - 1)
        return queued

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_regenerate_secret(self):
        """A new signing secret: receivers must be given it (the old one stops working at once)."""
        self.check_access("write")
        for webhook in self:
            webhook.sudo().secret = pure.generate_secret()
            webhook.message_post(body=self.env._("Signing secret regenerated by %s.", self.env.user.name))
        return True

    def action_send_test(self):
        """Queue a ``ping`` for this webhook and deliver it at once; open the delivery with the answer."""
        self.ensure_one()
        self.check_access("write")
        if not self.active:
            raise UserError(self.env._("Activate the webhook before sending it a test event."))
        data = {"message": self.env._("Test event from Klodr Loyalty"), "webhook": self.name}
        delivery = self._enqueue(pure.TEST_EVENT, None, data, webhooks=self)
        delivery._attempt()
        return {
            "type": "ir.actions.act_window",
            "res_model": "klodr.webhook.delivery",
            "res_id": delivery.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_open_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_webhook_delivery_action")
        action["domain"] = [("webhook_id", "=", self.id)]
        action["context"] = {"default_webhook_id": self.id}
        return action


class KlodrWebhookDelivery(models.Model):
    """One event for one webhook: its body (signed when sent), its state and the last answer."""

    _name = "klodr.webhook.delivery"
    _description = "Loyalty Webhook Delivery"
    _order = "id desc"
    _rec_name = "uuid"

    uuid = fields.Char(string="Event ID", required=True, readonly=True, copy=False,
                       default=lambda self: str(uuid4()),
                       help="Sent as X-Klodr-Delivery and as the body's id; the same on every retry, "
                            "so receivers can drop duplicates.")
    webhook_id = fields.Many2one("klodr.webhook", required=True, readonly=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="webhook_id.company_id", store=True, index=True)
    program_id = fields.Many2one("klodr.program", readonly=True, ondelete="set null")
    member_id = fields.Many2one("klodr.member", readonly=True, index="btree_not_null", ondelete="set null")
    event = fields.Char(required=True, readonly=True, index=True)
    payload = fields.Text(readonly=True, help="The JSON body, exactly as signed and sent.")
    state = fields.Selection(STATES, required=True, readonly=True, default="queued", index=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True)
    last_attempt_at = fields.Datetime(readonly=True)
    last_status_code = fields.Integer(string="Last HTTP Status", readonly=True)
    last_response = fields.Text(readonly=True, help="The start of the receiver's last answer.")
    last_error = fields.Char(readonly=True)
    sent_at = fields.Datetime(readonly=True)
    dedupe_key = fields.Char(readonly=True, copy=False)

    _uuid_unique = models.Constraint("UNIQUE(uuid)", "A delivery id is unique.")
    _dedupe_unique = models.UniqueIndex("(webhook_id, dedupe_key) WHERE dedupe_key IS NOT NULL",
                                        "This event was already queued for this webhook.")
    _due_idx = models.Index("(next_attempt_at, id) WHERE state IN ('queued', 'failed')")

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    @api.model
    def _cron_deliver(self):
        self._deliver_due(progress=self.env["ir.cron"]._commit_progress)

    @api.model
    def _deliver_due(self, batch_size=BATCH_SIZE, limit=None, progress=None):
        """Send the due deliveries, batch after batch, until none is due (or ``limit`` sent, or the
        cron's time is up).

        A batch is taken with ``FOR UPDATE SKIP LOCKED``, so concurrent runs share the work without
        sending a delivery twice. ``progress`` (the cron's ``_commit_progress``) commits after each
        delivery; a commit releases the locks, so each following delivery of the batch is locked again
        (and skipped if another run took it meanwhile).

        :return: the number of attempts made.
        """
        done = 0
        seen = set()
        while limit is None or done < limit:
            self.env.flush_all()
            now = fields.Datetime.now()
            size = batch_size if limit is None else min(batch_size, limit - done)
            self.env.cr.execute(SQL(
                """SELECT d.id FROM klodr_webhook_delivery d
                     JOIN klodr_webhook w ON w.id = d.webhook_id AND w.active
                    WHERE d.state IN %s AND d.next_attempt_at <= %s AND NOT d.id = ANY(%s::int[])
                    ORDER BY d.next_attempt_at, d.id
                    LIMIT %s
                      FOR UPDATE OF d SKIP LOCKED""",
                _DUE_STATES, now, list(seen), size))
            ids = [row[0] for row in self.env.cr.fetchall()]
            if not ids:
                break
            for index, delivery_id in enumerate(ids):
                seen.add(delivery_id)
                delivery = self.browse(delivery_id)
                if index and not delivery._try_lock(due_at=fields.Datetime.now()):
                    continue
                delivery._attempt_safely()
                done += 1
                if progress and progress(1, remaining=len(ids) - index - 1) == 0:
                    return done
        return done

    def _try_lock(self, due_at=None):
        """Lock this delivery unless another transaction holds it (or, with ``due_at``, unless it is no
        longer due then): whether it is now ours."""
        self.ensure_one()
        self.env.flush_all()
        due = SQL("AND state IN %s AND next_attempt_at <= %s", _DUE_STATES, due_at) if due_at else SQL()
        self.env.cr.execute(SQL(
            "SELECT id FROM klodr_webhook_delivery WHERE id = %s %s FOR UPDATE SKIP LOCKED", self.id, due))
        locked = bool(self.env.cr.fetchone())
        self.invalidate_recordset()
        return locked

    def _attempt_safely(self):
        """``_attempt``, but a delivery that cannot even be tried (a bug, bad data) is recorded as a failed
        attempt instead of failing the run again and again, ahead of every delivery queued after it."""
        try:
            with self.env.cr.savepoint():
                return self._attempt()
        except Exception as exc:
            if isinstance(exc, psycopg2.errors.SerializationFailure | psycopg2.errors.LockNotAvailable):
                raise
            _logger.exception("Webhook delivery %s could not be attempted", self.id)
            self.sudo()._record(fields.Datetime.now(), 0, None, f"{type(exc).__name__}: {exc}")
            return False

    def _headers(self, body, now):
        webhook = self.webhook_id.sudo()
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            pure.EVENT_HEADER: self.event,
            pure.DELIVERY_HEADER: self.uuid,
            pure.ATTEMPT_HEADER: str(self.attempts + 1),
            pure.SIGNATURE_HEADER: pure.sign(webhook.secret, body, pure.unix(now)),
        }

    @staticmethod
    def _read_answer(response):
        """The start of the answer's body, as text (a receiver may answer with anything, of any size)."""
        try:
            raw = response.raw.read(ANSWER_BYTES, decode_content=True) if response.raw else response.content
        except (requests.RequestException, OSError, ValueError) as exc:
            return f"<answer unreadable: {exc}>"
        return (raw or b"").decode(response.encoding or "utf-8", errors="replace")

    def _attempt(self):
        """POST this delivery once (the caller holds its row) and record the answer.

        2xx: sent. Anything else (3xx included: redirects are never followed), or no answer: failed,
        to be retried by the backoff schedule, dead after the last attempt.
        :return: whether the receiver accepted it.
        """
        self.ensure_one()
        delivery = self.sudo()
        webhook = delivery.webhook_id
        now = fields.Datetime.now()
        body = (delivery.payload or "").encode("utf-8")
        status = 0
        answer = None
        error = pure.url_problem(webhook.url)
        if not error:
            try:
                response = requests.post(webhook.url, data=body, headers=delivery._headers(body, now),
                                         timeout=TIMEOUT, allow_redirects=False, stream=True)
            except (requests.RequestException, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            else:
                with contextlib.closing(response):
                    status = response.status_code
                    answer = self._read_answer(response)
                    if 300 <= status < 400:
                        error = f"HTTP {status}: redirect to {response.headers.get('Location')} not followed"
                    elif not 200 <= status < 300:
                        error = f"HTTP {status}"
        delivery._record(now, status, answer, error)
        return error is None

    def _record(self, now, status, answer, error):
        """Write the outcome of an attempt: sent, or failed with the next try (dead after the last)."""
        self.ensure_one()
        attempts = self.attempts + 1
        values = {"attempts": attempts, "last_attempt_at": now, "last_status_code": status,
                  "last_response": pure.truncate(answer), "last_error": pure.truncate(error, 500) or False}
        if error is None:
            values.update(state="sent", sent_at=now, next_attempt_at=False)
        else:
            retry_at = pure.next_attempt(attempts, now)
            values.update(state="failed" if retry_at else "dead", next_attempt_at=retry_at or False)
            # The URL may carry a token: name the webhook, not its URL.
            _logger.info("Webhook delivery %s (%s) to webhook %s failed, attempt %s: %s", self.uuid,
                         self.event, self.webhook_id.id, attempts, error)
        self.write(values)

    # ------------------------------------------------------------------
    # Buttons and housekeeping
    # ------------------------------------------------------------------
    def action_retry(self):
        """Send these deliveries now, whatever their schedule (a dead one gets one more attempt)."""
        self.check_access("write")
        now = fields.Datetime.now()
        busy = self.browse()
        for delivery in self.sudo():
            if delivery.state == "sent":
                continue
            if not delivery._try_lock():
                busy |= delivery  # the cron is sending it
                continue
            delivery.write({"state": "queued", "next_attempt_at": now})
            delivery._attempt()
        if busy:
            return {"type": "ir.actions.client", "tag": "display_notification", "params": {
                "type": "warning", "message": self.env._("Being sent right now: %s", ", ".join(busy.mapped("uuid"))),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}
        return True

    @api.autovacuum
    def _gc_old_deliveries(self):
        """Sent and dead deliveries are kept for ``KEEP_DAYS`` days."""
        limit = fields.Datetime.now() - timedelta(days=KEEP_DAYS)
        self.sudo().search(Domain("state", "in", ["sent", "dead"]) & Domain("last_attempt_at", "<", limit),
                           limit=10000).unlink()


class KlodrMember(models.Model):
    _inherit = "klodr.member"  # pylint: disable=consider-merging-classes-inherited

    def _klodr_notify(self, event, **values):
        """Also queue the webhook deliveries of ``event`` (rows only, sent by the cron after commit)."""
        result = super()._klodr_notify(event, **values)
        webhook_event = NOTIFY_EVENTS.get(event)
        if webhook_event:
            Webhook = self.env["klodr.webhook"]
            for member in self:
                webhooks = Webhook._subscribed(webhook_event, member.program_id)
                if webhooks:
                    data = member._klodr_webhook_data(webhook_event, values)
                    Webhook._enqueue(webhook_event, member.program_id, data, member=member, webhooks=webhooks)
        return result

    def _klodr_notify_wanted(self, event):
        if super()._klodr_notify_wanted(event):
            return True
        webhook_event = NOTIFY_EVENTS.get(event)
        if not webhook_event:
            return False
        # From the cached subscriptions and settings: no read of the program on the earn path.
        program = self.program_id
        return any(webhook_event in events and (not program_ids or program.id in program_ids)
                   for _id, events, program_ids in self.env["klodr.webhook"]._subscriptions(
                       program._ledger_settings()[0]))

    def _klodr_webhook_member(self, values=None):
        """Who the event is about, as integrations know members (never an OTP, never a secret).

        :param values: the notification's values: a deferred one carries the ``balance`` and ``tier``
            of when it happened (``_klodr_notify_snapshot``).
        """
        self.ensure_one()
        member = self.sudo()
        member.invalidate_recordset(["balance"])  # written in SQL by the ledger
        values = values or {}
        return {
            "id": member.id,
            "code": member.code,
            "mobile": member.mobile,
            "balance": values["balance"] if "balance" in values else member.balance,
            "tier": _tier(values["tier"] if "tier" in values else member.tier_id),
        }

    def _klodr_webhook_data(self, event, values):
        self.ensure_one()
        member = self.sudo()
        digits = member.program_id.currency_id.decimal_places or 2
        data = {"member": member._klodr_webhook_member(values)}
        if event == "member.enrolled":
            data["member"]["name"] = member.name
            data.update(store_ref=member.store_id.code or None, referral_code=member.referral_code,
                        referred_by=member.referred_by_id.code or None)
        elif event == "points.earned":
            transaction = values.get("transaction")
            data["points"] = values.get("points", 0)
            if transaction:
                transaction = transaction.sudo()
                data.update(transaction_id=transaction.id, order_ref=transaction.order_ref,
                            amount=pure.money(transaction.amount, digits), store_ref=transaction.store_id.code or None,
                            occurred_at=pure.iso_utc(transaction.date))
        elif event == "points.redeemed":
            data["points"] = values.get("points", 0)
            redemption = values.get("redemption")
            if redemption:
                data.update(redemption.sudo()._klodr_webhook_fields(digits))
        elif event == "tier.changed":
            data.update(from_tier=_tier(values.get("from_tier")), to_tier=_tier(values.get("to_tier")))
        return data


class KlodrRedemption(models.Model):
    _inherit = "klodr.redemption"

    def _cancel(self, reason=None):
        """Also queue ``redemption.cancelled`` (pending ones released, confirmed ones reversed)."""
        result = super()._cancel(reason=reason)
        Webhook = self.env["klodr.webhook"]
        for redemption in self.sudo():
            program = redemption.program_id
            webhooks = Webhook._subscribed("redemption.cancelled", program)
            if webhooks:
                digits = program.currency_id.decimal_places or 2
                data = dict(redemption._klodr_webhook_fields(digits),
                            member=redemption.member_id._klodr_webhook_member(),
                            points=redemption.points,
                            status=redemption.state,
                            points_returned=redemption.points if redemption.state == "reversed" else 0,
                            reason=reason or None)
                Webhook._enqueue("redemption.cancelled", program, data, member=redemption.member_id,
                                 webhooks=webhooks)
        return result

    def _klodr_webhook_fields(self, digits=2):
        self.ensure_one()
        return {
            "redemption_id": self.id,
            "redemption_ref": self.name,
            "order_ref": self.order_ref or None,
            "reward_id": self.reward_id.id or None,
            "discount_amount": pure.money(self.discount_amount, digits),
            "store_ref": self.store_id.code or None,
        }


def _tier(tier):
    return {"code": tier.code or None, "name": tier.name} if tier else None
