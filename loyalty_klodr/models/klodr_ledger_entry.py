import logging
import queue
import threading

import pytz

from odoo import api, fields, models, sql_db
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tools import SQL

from ..exceptions import IdempotencyConflict, InsufficientPoints, LoyaltyError
from ..tools import ledger_check
from ..tools.expiry import lot_expiry_date, plan_expiry_batches
from ..tools.fifo import Lot, allocate_fifo
from ..tools.hashing import GENESIS, HASHED_FIELDS, entry_hash, expire_entry_hash

_logger = logging.getLogger(__name__)

ENTRY_TYPES = [
    ("earn", "Earn"),
    ("bonus", "Bonus"),
    ("redeem", "Redeem"),
    ("expire", "Expire"),
    ("refund", "Refund"),
    ("reversal", "Reversal"),
    ("adjust", "Adjustment"),
]
CREDIT_TYPES = frozenset({"earn", "bonus"})
DEBIT_TYPES = frozenset({"redeem", "expire", "refund"})
# Only a refund may take a balance below zero; what it cannot take from lots
# is a debt that the member's next credits settle first.
MAY_OWE_TYPES = frozenset({"refund"})
# Types a blocked or erased member can still receive (housekeeping, corrections).
INACTIVE_ALLOWED_TYPES = frozenset({"expire", "refund", "reversal", "adjust"})
MAX_POINTS = 10**9

_IMMUTABLE_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION klodr_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'klodr ledger rows are append-only: %% on %% refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS klodr_ledger_append_only ON %(table)s;
CREATE TRIGGER klodr_ledger_append_only BEFORE UPDATE OR DELETE ON %(table)s
    FOR EACH ROW EXECUTE FUNCTION klodr_ledger_refuse_change();
DROP TRIGGER IF EXISTS klodr_ledger_no_truncate ON %(table)s;
CREATE TRIGGER klodr_ledger_no_truncate BEFORE TRUNCATE ON %(table)s
    FOR EACH STATEMENT EXECUTE FUNCTION klodr_ledger_refuse_change();
"""


def install_append_only_trigger(cr, table):
    """(Re)create the trigger that refuses UPDATE, DELETE and TRUNCATE on ``table``."""
    cr.execute(SQL(_IMMUTABLE_TRIGGER_SQL, table=SQL.identifier(table)))


def _out_of_time(progress, processed, remaining):
    """Report progress (``ir.cron._commit_progress`` in the cron: it commits); whether the cron's
    time is up. No ``progress``, or one that tells no time, never runs out."""
    time_left = progress(processed, remaining=remaining) if progress else None
    return time_left is not None and time_left is not False and time_left <= 0


class KlodrLedgerEntry(models.Model):
    """One movement of points. Append-only: corrected by new entries, never edited."""

    _name = "klodr.ledger.entry"
    _description = "Loyalty Ledger Entry"
    _order = "id desc"
    _rec_name = "display_ref"
    # Who and when are ``user_id`` and ``date``; no create/write columns (an entry is never
    # written) and two foreign-key checks fewer on every insert of the hot paths.
    _log_access = False

    program_id = fields.Many2one("klodr.program", required=True, readonly=True, ondelete="restrict")
    # no index of its own: every search is by program or member, which imply the company
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="restrict")
    member_id = fields.Many2one("klodr.member", required=True, readonly=True, ondelete="restrict")
    mobile = fields.Char(related="member_id.mobile", string="Mobile")
    entry_type = fields.Selection(ENTRY_TYPES, string="Type", required=True, readonly=True)
    points = fields.Integer(required=True, readonly=True, aggregator="sum")
    balance_after = fields.Integer(readonly=True, aggregator=None)
    date = fields.Datetime(required=True, readonly=True)  # indexed with the program: _program_date_idx
    expiry_date = fields.Date(readonly=True, help="Last day the points of this lot can be spent.")
    source_model = fields.Char(readonly=True)
    source_id = fields.Many2oneReference(model_field="source_model", readonly=True)
    source_ref = fields.Char(string="Reference", readonly=True, index="btree_not_null")
    store_id = fields.Many2one("klodr.store", readonly=True, ondelete="restrict", index="btree_not_null")
    idempotency_key = fields.Char(readonly=True, copy=False)
    user_id = fields.Many2one("res.users", readonly=True, ondelete="restrict")
    description = fields.Char(readonly=True)
    entry_hash = fields.Char(readonly=True, copy=False)
    prev_hash = fields.Char(readonly=True, copy=False)
    display_ref = fields.Char(compute="_compute_display_ref")
    remaining = fields.Integer(compute="_compute_remaining", string="Remaining in Lot")
    allocation_ids = fields.One2many("klodr.ledger.allocation", "debit_entry_id", string="Lots Consumed")
    consumed_by_ids = fields.One2many("klodr.ledger.allocation", "lot_entry_id")
    award_ids = fields.One2many("klodr.ledger.award", "entry_id", string="Breakdown")

    _idempotency_key_unique = models.Constraint(
        "UNIQUE(program_id, idempotency_key)",
        "This idempotency key was already used in this program.")
    _points_sign = models.Constraint(
        "CHECK((entry_type IN ('earn', 'bonus') AND points > 0)"
        " OR (entry_type IN ('redeem', 'expire', 'refund') AND points < 0)"
        " OR (entry_type IN ('reversal', 'adjust') AND points <> 0))",
        "The sign of the points does not match the entry type.")
    _expiry_on_lots = models.Constraint(
        "CHECK(expiry_date IS NULL OR points > 0)", "Only credits carry an expiry date.")
    _member_order_idx = models.Index("(member_id, id)")
    _member_lots_idx = models.Index("(member_id, expiry_date) WHERE points > 0")
    _program_expiry_idx = models.Index("(program_id, expiry_date) WHERE points > 0 AND expiry_date IS NOT NULL")
    _program_date_idx = models.Index("(program_id, date)")

    def init(self):
        install_append_only_trigger(self.env.cr, self._table)

    @api.depends("entry_type", "source_ref", "member_id")
    def _compute_display_ref(self):
        labels = dict(ENTRY_TYPES)
        for entry in self:
            entry.display_ref = " ".join(filter(None, [
                entry.member_id.code, labels.get(entry.entry_type), entry.source_ref]))

    def _compute_remaining(self):
        remaining = self._lot_remainders(self.filtered(lambda e: e.points > 0).ids)
        for entry in self:
            entry.remaining = remaining.get(entry.id, 0)

    # ------------------------------------------------------------------
    # Immutability
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self.check_access("create")
        if not self.env.context.get("klodr_ledger_post"):
            raise UserError(self.env._(
                "Ledger entries are written by the ledger only (earn, redeem, adjust, ...)."))
        return super().create(vals_list)

    def write(self, vals):  # pylint: disable=method-required-super
        # Append-only: no write ever reaches the database (the trigger would refuse it too).
        raise UserError(self.env._(
            "Ledger entries cannot be changed. Correct a mistake with a new entry that reverses it."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._(
            "Ledger entries cannot be deleted. Correct a mistake with a new entry that reverses it."))

    # ------------------------------------------------------------------
    # Reading lots
    # ------------------------------------------------------------------
    @api.model
    def _lot_remainders(self, lot_ids):
        if not lot_ids:
            return {}
        self.env.cr.execute(SQL(
            """SELECT e.id, e.points - COALESCE((SELECT SUM(a.points) FROM klodr_ledger_allocation a
                                                 WHERE a.lot_entry_id = e.id), 0)
                 FROM klodr_ledger_entry e WHERE e.id = ANY(%s)""", list(lot_ids)))
        return dict(self.env.cr.fetchall())

    @api.model
    def _open_lots(self, member_id, today):
        """The member's lots with points left that can still be spent on ``today``."""
        self.env.cr.execute(SQL(
            """SELECT id, remaining, expiry_date FROM (
                   SELECT e.id, e.expiry_date,
                          e.points - COALESCE((SELECT SUM(a.points) FROM klodr_ledger_allocation a
                                               WHERE a.lot_entry_id = e.id), 0) AS remaining
                     FROM klodr_ledger_entry e
                    WHERE e.member_id = %s AND e.points > 0
                      AND (e.expiry_date IS NULL OR e.expiry_date >= %s)) lots
                WHERE remaining > 0""", member_id, today))
        return [Lot(id=row[0], remaining=row[1], expiry_date=row[2]) for row in self.env.cr.fetchall()]

    @api.model
    def _open_debts(self, member_id):
        """Negative entries not yet covered by lots (left by refunds), oldest first."""
        self.env.cr.execute(SQL(
            """SELECT id, owed FROM (
                   SELECT e.id, -e.points - COALESCE((SELECT SUM(a.points) FROM klodr_ledger_allocation a
                                                      WHERE a.debit_entry_id = e.id), 0) AS owed
                     FROM klodr_ledger_entry e
                    WHERE e.member_id = %s AND e.points < 0) debts
                WHERE owed > 0 ORDER BY id""", member_id))
        return self.env.cr.fetchall()

    # ------------------------------------------------------------------
    # Posting
    # ------------------------------------------------------------------
    @api.model
    def _post(self, member, entry_type, points, *, idempotency_key=None, date=None, expiry_date=None,
              store=None, source=None, source_ref=None, description=None, hold=None, locked=None,
              new_key=False):
        """Write one ledger entry for ``member`` and move its balance, atomically.

        The member row is locked first; the entry, its allocations (FIFO over the
        member's lots, or settling debts for a credit), the cached balance and the
        chain head are written in the caller's transaction. With an
        ``idempotency_key`` already used in the program, the first entry is
        returned when it is the same operation, and IdempotencyConflict raised
        when it is not: the unique constraint makes a second credit impossible.

        :param hold: a ``klodr.ledger.hold`` consumed by this (redeem) entry; its
            points are not counted against the spendable balance.
        :param locked: ``{member id: state}`` as ``member._lock_for_points()`` returned it when
            the caller already locked the member in this transaction: not locked again, and
            the state is updated with the new balance and chain head.
        :param new_key: the caller knows ``idempotency_key`` cannot have been used (it names a
            record created in this transaction): no look-up for a replay.
        :return: the entry (``klodr.ledger.entry`` record).
        """
        member.ensure_one()
        self._check_post_args(entry_type, points)
        program = member.program_id
        company_id, expiry_policy, expiry_months, tz = program._ledger_settings()
        state = locked[member.id] if locked else member._lock_for_points()[member.id]
        balance, head, member_state = state
        if idempotency_key and not new_key:
            existing = self._replay(program, idempotency_key, member, entry_type, points)
            if existing:
                return existing
        if member_state != "active" and entry_type not in INACTIVE_ALLOWED_TYPES:
            raise LoyaltyError(self.env._("Member %s is not active.", member.code), code="member_inactive")

        date = (date or fields.Datetime.now()).replace(microsecond=0, tzinfo=None)
        today = pytz.utc.localize(date).astimezone(pytz.timezone(tz)).date()  # the program's day
        allocations = []  # (debit_entry_id or None for the new one, lot_id or None for the new one, points)
        if points > 0:
            if expiry_date is None:
                expiry_date = lot_expiry_date(today, expiry_policy, expiry_months)
            if balance < 0:
                left = points
                for debit_id, owed in self._open_debts(member.id):
                    take = min(owed, left)
                    allocations.append((debit_id, None, take))
                    left -= take
                    if not left:
                        break
        else:
            expiry_date = None
            needed = -points
            if entry_type == "redeem":
                held_elsewhere = self.env["klodr.ledger.hold"]._held_points_by_member(
                    member.ids, exclude=hold).get(member.id, 0)
                if needed > balance - held_elsewhere:
                    raise InsufficientPoints(self.env._(
                        "Not enough points: %(needed)s needed, %(spendable)s spendable.",
                        needed=needed, spendable=max(balance - held_elsewhere, 0)),
                        needed=needed, spendable=max(balance - held_elsewhere, 0))
            lots = self._open_lots(member.id, today) if balance > 0 else []
            lot_allocations, shortfall = allocate_fifo(lots, needed)
            if shortfall and entry_type not in MAY_OWE_TYPES:
                raise InsufficientPoints(self.env._(
                    "Not enough points: %(needed)s needed, %(available)s available.",
                    needed=needed, available=needed - shortfall),
                    needed=needed, spendable=needed - shortfall)
            allocations = [(None, lot_id, take) for lot_id, take in lot_allocations]

        values = {
            "program_id": program.id,
            "company_id": company_id,
            "member_id": member.id,
            "entry_type": entry_type,
            "points": points,
            "balance_after": balance + points,
            "date": date,
            "expiry_date": expiry_date,
            "idempotency_key": idempotency_key or None,
            "source_model": source._name if source else None,
            "source_id": source.id if source else None,
            "source_ref": source_ref or None,
            "store_id": store.id if store else None,
            "user_id": self.env.uid,
            "description": description or None,
            "prev_hash": head or GENESIS,
        }
        values["entry_hash"] = entry_hash(values["prev_hash"], values)
        entry = self.browse(self._insert_entry(values, move_member=True))
        # what was just written, in the cache: callers read it without a round trip
        entry._update_cache({name: values[name] for name in ("entry_type", "points", "date")}, validate=False)
        if allocations:
            self._insert_allocations([
                (debit_id or entry.id, lot_id or entry.id, take) for debit_id, lot_id, take in allocations
            ])
        if locked is not None:
            locked[member.id] = (values["balance_after"], values["entry_hash"], member_state)
        member.invalidate_recordset(["balance", "chain_head", "held_points", "spendable_points", "entry_ids"])
        if source:
            source.invalidate_recordset()
        if hold:
            hold._consume(entry)
        return entry.with_env(self.env)

    @api.model
    def _insert_entry(self, values, move_member=False):
        """INSERT one entry and return its id: the hot path of every earn skips the ORM's create.

        Only the ledger calls this, with values it computed and hashed; the ORM's
        ``create`` stays refused to everyone else.
        :param move_member: also set the member's balance and chain head to the entry's
            ``balance_after`` and hash, in the same statement (one round trip).
        """
        columns = list(values)
        insert = SQL("INSERT INTO klodr_ledger_entry (%s) VALUES (%s) RETURNING id",
                     SQL(", ").join(SQL.identifier(c) for c in columns),
                     SQL(", ").join(values[c] for c in columns))
        if move_member:
            insert = SQL(
                """WITH entry AS (%s)
                   UPDATE klodr_member SET balance = %s, chain_head = %s WHERE id = %s
                   RETURNING (SELECT id FROM entry)""",
                insert, values["balance_after"], values["entry_hash"], values["member_id"])
        self.env.cr.execute(insert)
        return self.env.cr.fetchone()[0]

    @api.model
    def _check_post_args(self, entry_type, points):
        if entry_type not in dict(ENTRY_TYPES):
            raise LoyaltyError(self.env._("Unknown entry type %s.", entry_type))
        if isinstance(points, bool) or not isinstance(points, int):
            raise LoyaltyError(self.env._("Points are whole numbers."), field="points")
        if points == 0 or abs(points) > MAX_POINTS:
            raise LoyaltyError(self.env._("Points must be non-zero and at most %s.", MAX_POINTS),
                               field="points")
        if (entry_type in CREDIT_TYPES and points < 0) or (entry_type in DEBIT_TYPES and points > 0):
            raise LoyaltyError(self.env._("The sign of the points does not match the entry type."),
                               field="points")

    @api.model
    def _replay(self, program, idempotency_key, member, entry_type, points):
        self.env.cr.execute(SQL(
            "SELECT id, member_id, entry_type, points FROM klodr_ledger_entry "
            "WHERE program_id = %s AND idempotency_key = %s", program.id, idempotency_key))
        row = self.env.cr.fetchone()
        if not row:
            return self.browse()
        existing = self.browse(row[0])
        if row[1:] != (member.id, entry_type, points):
            raise IdempotencyConflict(self.env._(
                "The idempotency key %s was already used for another operation.", idempotency_key))
        return existing.with_env(self.env)

    @api.model
    def _insert_allocations(self, rows):
        """rows: (debit_entry_id, lot_entry_id, points). Allocations are append-only too."""
        debit_ids, lot_ids, points = zip(*rows, strict=True)
        self.env.cr.execute(SQL(
            """INSERT INTO klodr_ledger_allocation (debit_entry_id, lot_entry_id, points)
               SELECT * FROM unnest(%s::int[], %s::int[], %s::int[])""",
            list(debit_ids), list(lot_ids), list(points)))
        # Rows written in SQL: what the ORM cached about lots is stale.
        self.invalidate_model(["allocation_ids", "consumed_by_ids", "remaining"])
        self.env["klodr.ledger.lot"].invalidate_model()
        self.env["klodr.member"].invalidate_model(["lot_ids"])

    # ------------------------------------------------------------------
    # Expiry
    # ------------------------------------------------------------------
    @api.model
    def _cron_expire_lots(self):
        workers = int(self.env["ir.config_parameter"].sudo().get_param("loyalty_klodr.expiry_workers", 2))
        self._expire_due_lots(progress=self.env["ir.cron"]._commit_progress, workers=workers)

    @api.model
    def _expire_due_lots(self, today=None, batch_size=5000, progress=None, max_batches=None, programs=None,
                         workers=1):
        """Write one ``expire`` entry per lot remainder past its expiry date.

        Set-based: lots are read, members locked and entries written in batches,
        and ``progress`` (``ir.cron._commit_progress`` in the cron) commits after
        each. A lot that is already settled has nothing left, so a second run, or a
        run after an interruption, expires nothing twice; the idempotency key
        ``expire:<lot id>`` is the last guard.

        With ``workers`` > 1 (the cron; a real database cursor, not a test's), the
        batches run in that many transactions at once, each on its own members
        (``tools.expiry.plan_expiry_batches``), each batch committed on its own:
        PostgreSQL does most of the work, and one connection keeps one core busy.

        :return: the number of lots expired.
        """
        total = 0
        batches = 0
        if programs is None:
            programs = self.env["klodr.program"].with_context(active_test=False).search([])  # pylint: disable=no-search-all
        # Parallel transactions cannot see what this one has not committed, and a test
        # cursor is a single shared connection: then the batches run here, in order.
        parallel = workers > 1 and isinstance(self.env.cr, sql_db.Cursor)
        for program in programs.sudo():
            # a lot is spendable through its expiry date in the program's own timezone
            program_today = today or pytz.utc.localize(fields.Datetime.now()).astimezone(
                pytz.timezone(program._ledger_settings()[3])).date()
            lots = self._expirable_lots(program, program_today)
            self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM klodr_ledger_entry")
            max_entry_id = self.env.cr.fetchone()[0]
            if parallel and lots:
                limit = None if max_batches is None else max_batches - batches
                expired, ran, finished = self._expire_in_parallel(
                    program, program_today, plan_expiry_batches(lots, workers, batch_size), progress, limit)
                total += expired
                batches += ran
                if not finished:
                    return total
            else:
                for start in range(0, len(lots), batch_size):
                    if max_batches is not None and batches >= max_batches:
                        return total
                    batch = lots[start:start + batch_size]
                    total += self._expire_lot_batch(program, batch, program_today)
                    batches += 1
                    # the cron's time is up: stop here, the next run resumes (the watermark has not moved)
                    if _out_of_time(progress, len(batch), max(len(lots) - start - len(batch), 0)):
                        return total
            # Every lot up to here is settled: the next run starts from today.
            self.env.cr.execute(SQL(
                "UPDATE klodr_program SET expiry_checked_until = %s, expiry_checked_entry_id = %s "
                "WHERE id = %s", program_today, max_entry_id, program.id))
            program.invalidate_recordset(["expiry_checked_until", "expiry_checked_entry_id"])
            if progress:
                progress(0)
        return total

    def _expire_in_parallel(self, program, today, shares, progress, max_batches):
        """Run each share of batches in a thread of its own, a new transaction per batch.

        The calling transaction only waits, and reports progress (the cron's time
        budget): when it runs out, or a thread fails, the others stop after their
        current batch. What was committed stays committed; the next run resumes.

        :return: (lots expired, batches run, whether every batch ran)
        """
        registry, uid, context, program_id = self.env.registry, self.env.uid, self.env.context, program.id
        stop = threading.Event()
        done = queue.SimpleQueue()
        errors = []
        budget = [max_batches]
        budget_lock = threading.Lock()

        def take_batch():
            with budget_lock:
                if budget[0] is None:
                    return True
                if budget[0] <= 0:
                    return False
                budget[0] -= 1
                return True

        def run(share):
            try:
                for batch in share:
                    if stop.is_set() or not take_batch():
                        stop.set()
                        return
                    with registry.cursor() as cr:
                        env = api.Environment(cr, uid, context)
                        ledger = env["klodr.ledger.entry"]
                        expired = retrying(lambda ledger=ledger, env=env, batch=batch: ledger._expire_lot_batch(
                            env["klodr.program"].browse(program_id), batch, today), env)
                    done.put((expired, len(batch)))
            except Exception as error:  # noqa: BLE001 -- reported by the calling thread
                _logger.exception("expiry batch of program %s failed", program_id)
                errors.append(error)
                stop.set()

        threads = [threading.Thread(target=run, args=(share,), name=f"klodr-expiry-{number}", daemon=True)
                   for number, share in enumerate(shares) if share]
        for thread in threads:
            thread.start()
        remaining = sum(len(batch) for share in shares for batch in share)
        total = ran = 0
        while any(thread.is_alive() for thread in threads) or not done.empty():
            try:
                expired, size = done.get(timeout=1)
            except queue.Empty:
                continue
            total += expired
            ran += 1
            remaining -= size
            if _out_of_time(progress, size, remaining):
                stop.set()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        # the calling transaction saw nothing of the threads' commits
        self.env.invalidate_all()
        return total, ran, not stop.is_set()

    @api.model
    def _expirable_lots(self, program, today):
        """``(lot id, member id)`` of lots that expired before ``today``, not settled by an earlier run.

        Those expiring since the last run, plus those posted since it with an
        expiry already past (back-dated credits).
        """
        since = program.expiry_checked_until
        if not since:
            condition = SQL("TRUE")
        else:
            condition = SQL("(e.expiry_date >= %s OR e.id > %s)", since, program.expiry_checked_entry_id)
        self.env.cr.execute(SQL(
            """SELECT e.id, e.member_id FROM klodr_ledger_entry e
                WHERE e.program_id = %s AND e.points > 0 AND e.expiry_date < %s AND %s
                ORDER BY e.id""", program.id, today, condition))
        return self.env.cr.fetchall()

    @api.model
    def _expire_lot_batch(self, program, lots, today):
        """Expire what is left in ``lots`` (``(lot id, member id)``): one ``expire`` entry and one
        allocation per lot.

        Four statements per batch whatever its size: lock the members (in id order,
        so batches and earns never deadlock), read the lots with their remainders,
        insert the entries and their allocations in one statement, move balances and
        chain heads (bumping ``points_version`` in the same UPDATE).
        """
        cr = self.env.cr
        # Big arrays make the planner guess costs that switch JIT compilation on:
        # tens of milliseconds per statement for queries that take a few.
        cr.execute("SET LOCAL jit = off")
        lot_ids = [lot_id for lot_id, _member_id in lots]
        cr.execute(SQL(
            """SELECT id, balance, chain_head FROM klodr_member
                WHERE id = ANY(%s) ORDER BY id FOR UPDATE""", sorted({member_id for _lot, member_id in lots})))
        state = {row[0]: [row[1], row[2] or GENESIS] for row in cr.fetchall()}
        cr.execute(SQL(
            """SELECT e.id, e.member_id,
                      e.points - COALESCE((SELECT SUM(a.points) FROM klodr_ledger_allocation a
                                            WHERE a.lot_entry_id = e.id), 0)
                 FROM klodr_ledger_entry e WHERE e.id = ANY(%s) ORDER BY e.id""", lot_ids))
        now = fields.Datetime.now().replace(microsecond=0)
        now_text = now.isoformat(sep=" ")
        program_id = program.id
        lots, members, points, balances, prev_hashes, hashes = [], [], [], [], [], []
        for lot_id, member_id, left in cr.fetchall():
            if left <= 0:
                continue
            member_state = state[member_id]
            balance = member_state[0] - left
            prev_hash = member_state[1]
            digest = expire_entry_hash(prev_hash, program_id, member_id, -left, balance, now_text, lot_id)
            member_state[0], member_state[1] = balance, digest
            lots.append(lot_id)
            members.append(member_id)
            points.append(-left)
            balances.append(balance)
            prev_hashes.append(prev_hash)
            hashes.append(digest)
        if not lots:
            return 0
        # The keys and the allocations are derived from the lot ids in SQL: the entry and
        # its allocation are written by one statement, and cannot be written apart. Expiry
        # is the system's act, not a user's: no user_id (one foreign-key check fewer a lot).
        cr.execute(SQL(
            """WITH entries AS (
                   INSERT INTO klodr_ledger_entry (program_id, company_id, member_id, entry_type, points,
                               balance_after, date, idempotency_key, prev_hash, entry_hash, description)
                   SELECT %(program)s, %(company)s, m, 'expire', pts, bal, %(now)s, 'expire:' || lot, ph, h,
                          'Expired'
                     FROM unnest(%(lots)s::int[], %(members)s::int[], %(points)s::int[], %(balances)s::int[],
                                 %(prev)s::varchar[], %(hashes)s::varchar[]) AS t(lot, m, pts, bal, ph, h)
                   RETURNING id, idempotency_key, points)
               INSERT INTO klodr_ledger_allocation (debit_entry_id, lot_entry_id, points)
               SELECT id, substr(idempotency_key, 8)::int, -points FROM entries""",
            program=program_id, company=program.company_id.id, now=now, lots=lots,
            members=members, points=points, balances=balances, prev=prev_hashes, hashes=hashes))
        member_ids = list(state)
        cr.execute(SQL(
            """UPDATE klodr_member m
                  SET balance = v.balance, chain_head = v.head, points_version = m.points_version + 1
                 FROM unnest(%s::int[], %s::int[], %s::varchar[]) AS v(id, balance, head)
                WHERE m.id = v.id""",
            member_ids, [state[m][0] for m in member_ids], [state[m][1] for m in member_ids]))
        self.env["klodr.member"].browse(member_ids).invalidate_recordset(["balance", "chain_head", "points_version"])
        self.invalidate_model()
        self.env["klodr.ledger.allocation"].invalidate_model()
        self.env["klodr.ledger.lot"].invalidate_model()
        return len(lots)

    # ------------------------------------------------------------------
    # Verification
    # ------------------------------------------------------------------
    @api.model
    def _verify_ledger(self, program_ids=None):
        """Check every invariant of the ledger; return the breaks found (empty: whole).

        Hash chains, cached balances against entries and lots, lots never
        over-allocated, debits covered, allocations within one member, holds.
        """
        cr = self.env.cr
        scope = SQL("TRUE") if program_ids is None else SQL("program_id = ANY(%s)", list(program_ids))
        member_scope = SQL("TRUE") if program_ids is None else SQL("m.program_id = ANY(%s)", list(program_ids))
        breaks = []
        # The allocations are summed for the entries in scope only: verifying one program
        # reads that program's rows, not the whole ledger's.
        scoped_allocations = SQL(
            """scoped AS (SELECT id, member_id, entry_type, points FROM klodr_ledger_entry WHERE %s),
               alloc_lot AS (SELECT a.lot_entry_id AS id, SUM(a.points) AS n FROM klodr_ledger_allocation a
                              WHERE a.lot_entry_id IN (SELECT id FROM scoped WHERE points > 0)
                              GROUP BY a.lot_entry_id),
               alloc_debit AS (SELECT a.debit_entry_id AS id, SUM(a.points) AS n FROM klodr_ledger_allocation a
                                WHERE a.debit_entry_id IN (SELECT id FROM scoped)
                                GROUP BY a.debit_entry_id)""", scope)
        cr.execute(SQL(
            """WITH %s,
                    per_member AS (
                        SELECT e.member_id,
                               SUM(e.points) AS total,
                               SUM(CASE WHEN e.points > 0 THEN e.points - COALESCE(l.n, 0) ELSE 0 END) AS lots,
                               SUM(CASE WHEN e.points < 0 THEN -e.points - COALESCE(d.n, 0) ELSE 0 END) AS debt
                          FROM scoped e
                          LEFT JOIN alloc_lot l ON l.id = e.id
                          LEFT JOIN alloc_debit d ON d.id = e.id
                         GROUP BY e.member_id),
                    holds AS (SELECT member_id, SUM(points) AS n FROM klodr_ledger_hold
                               WHERE state = 'active' AND expires_at > NOW() AT TIME ZONE 'UTC'
                               GROUP BY member_id)
               SELECT m.id, m.balance, COALESCE(p.total, 0), COALESCE(p.lots, 0), COALESCE(p.debt, 0),
                      COALESCE(h.n, 0)
                 FROM klodr_member m
                 LEFT JOIN per_member p ON p.member_id = m.id
                 LEFT JOIN holds h ON h.member_id = m.id
                WHERE %s""", scoped_allocations, member_scope))
        for row in cr.fetchall():
            breaks.extend(ledger_check.check_member_totals(ledger_check.MemberTotals(*row)))
        # Allocations to a debit or a non-lot: the lot side is checked over every allocation
        # that points at an entry in scope, whatever its sign.
        cr.execute(SQL(
            """WITH %s,
                    alloc_any AS (SELECT a.lot_entry_id AS id, SUM(a.points) AS n FROM klodr_ledger_allocation a
                                   WHERE a.lot_entry_id IN (SELECT id FROM scoped) GROUP BY a.lot_entry_id)
               SELECT e.id, e.points, a.n FROM alloc_any a JOIN scoped e ON e.id = a.id
                WHERE e.points <= 0 OR a.n > e.points""", scoped_allocations))
        for lot_id, points, allocated in cr.fetchall():
            breaks.extend(ledger_check.check_lot(lot_id, points, allocated))
        cr.execute(SQL(
            """WITH %s
               SELECT e.id, e.entry_type, e.points, COALESCE(a.n, 0)
                 FROM scoped e
                 LEFT JOIN alloc_debit a ON a.id = e.id
                WHERE (e.points < 0 AND COALESCE(a.n, 0) <> -e.points) OR (e.points > 0 AND a.n IS NOT NULL)""",
            scoped_allocations))
        for entry_id, entry_type, points, allocated in cr.fetchall():
            breaks.extend(ledger_check.check_debit(entry_id, entry_type, points, allocated,
                                                   entry_type in MAY_OWE_TYPES))
        cr.execute(SQL(
            """SELECT a.id FROM klodr_ledger_allocation a
                 JOIN klodr_ledger_entry d ON d.id = a.debit_entry_id
                 JOIN klodr_ledger_entry l ON l.id = a.lot_entry_id
                WHERE (d.member_id <> l.member_id OR a.points <= 0) AND %s""",
            SQL("TRUE") if program_ids is None else SQL("d.program_id = ANY(%s)", list(program_ids))))
        for (allocation_id,) in cr.fetchall():
            breaks.append(ledger_check.Break(
                "allocation", "klodr.ledger.allocation", allocation_id,
                "links entries of two members, or moves no points"))
        cr.execute(SQL(
            """SELECT h.id FROM klodr_ledger_hold h
                 LEFT JOIN klodr_ledger_entry e ON e.id = h.entry_id
                WHERE (h.points <= 0
                       OR (h.state = 'consumed' AND (e.id IS NULL OR e.member_id <> h.member_id
                                                     OR e.points <> -h.points)))
                  AND %s""",
            SQL("TRUE") if program_ids is None else SQL("h.program_id = ANY(%s)", list(program_ids))))
        for (hold_id,) in cr.fetchall():
            breaks.append(ledger_check.Break(
                "hold", "klodr.ledger.hold", hold_id,
                "holds no points, or was consumed without its redeem entry"))
        breaks.extend(self._verify_chains(program_ids))
        return breaks

    @api.model
    def _verify_chains(self, program_ids=None, fetch_size=10000):
        cr = self.env.cr
        member_scope = SQL("TRUE") if program_ids is None else SQL("program_id = ANY(%s)", list(program_ids))
        entry_scope = member_scope
        cr.execute(SQL("SELECT id, chain_head FROM klodr_member WHERE %s", member_scope))
        heads = dict(cr.fetchall())
        columns = ("id", "member_id", "entry_hash", "prev_hash", *[f for f in HASHED_FIELDS if f != "member_id"])
        breaks = []
        seen = set()

        def flush(member_id, rows):
            seen.add(member_id)
            breaks.extend(ledger_check.check_chain(member_id, rows, heads.get(member_id)))

        # Keyset pages keep memory flat over millions of entries.
        select = SQL(", ").join(SQL.identifier(c) for c in columns)
        current, rows, after = None, [], (0, 0)
        while True:
            cr.execute(SQL(
                """SELECT %s FROM klodr_ledger_entry
                    WHERE %s AND (member_id, id) > (%s, %s) ORDER BY member_id, id LIMIT %s""",
                select, entry_scope, after[0], after[1], fetch_size))
            page = cr.fetchall()
            if not page:
                break
            for record in page:
                row = dict(zip(columns, record, strict=True))
                if row["member_id"] != current:
                    if current is not None:
                        flush(current, rows)
                    current, rows = row["member_id"], []
                rows.append(row)
            after = (page[-1][1], page[-1][0])
        if current is not None:
            flush(current, rows)
        for member_id, head in heads.items():
            if member_id not in seen and head and head != GENESIS:
                breaks.append(ledger_check.Break(
                    "chain_head", "klodr.member", member_id, "has a chain head but no entries"))
        return breaks
