import logging

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..exceptions import IdempotencyConflict, InsufficientPoints, LoyaltyError
from ..tools import ledger_check
from ..tools.expiry import lot_expiry_date
from ..tools.fifo import Lot, allocate_fifo
from ..tools.hashing import GENESIS, HASHED_FIELDS, entry_hash

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


class KlodrLedgerEntry(models.Model):
    """One movement of points. Append-only: corrected by new entries, never edited."""

    _name = "klodr.ledger.entry"
    _description = "Loyalty Ledger Entry"
    _order = "id desc"
    _rec_name = "display_ref"

    program_id = fields.Many2one("klodr.program", required=True, readonly=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True,
                                 ondelete="restrict")
    member_id = fields.Many2one("klodr.member", required=True, readonly=True, ondelete="restrict")
    mobile = fields.Char(related="member_id.mobile", string="Mobile")
    entry_type = fields.Selection(ENTRY_TYPES, string="Type", required=True, readonly=True)
    points = fields.Integer(required=True, readonly=True, aggregator="sum")
    balance_after = fields.Integer(readonly=True, aggregator=None)
    date = fields.Datetime(required=True, readonly=True, index=True)
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
              store=None, source=None, source_ref=None, description=None, hold=None):
        """Write one ledger entry for ``member`` and move its balance, atomically.

        The member row is locked first; the entry, its allocations (FIFO over the
        member's lots, or settling debts for a credit), the cached balance and the
        chain head are written in the caller's transaction. With an
        ``idempotency_key`` already used in the program, the first entry is
        returned when it is the same operation, and IdempotencyConflict raised
        when it is not: the unique constraint makes a second credit impossible.

        :param hold: a ``klodr.ledger.hold`` consumed by this (redeem) entry; its
            points are not counted against the spendable balance.
        :return: the entry (``klodr.ledger.entry`` record).
        """
        member.ensure_one()
        self._check_post_args(entry_type, points)
        program = member.program_id
        company_id, expiry_policy, expiry_months, tz = program._ledger_settings()
        state = member._lock_for_points()[member.id]
        balance, head, member_state = state
        if idempotency_key:
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
        entry = self.browse(self._insert_entry(values))
        if allocations:
            self._insert_allocations([
                (debit_id or entry.id, lot_id or entry.id, take) for debit_id, lot_id, take in allocations
            ])
        self.env.cr.execute(SQL(
            "UPDATE klodr_member SET balance = %s, chain_head = %s WHERE id = %s",
            values["balance_after"], values["entry_hash"], member.id))
        member.invalidate_recordset(["balance", "chain_head", "held_points", "spendable_points", "entry_ids"])
        if source:
            source.invalidate_recordset()
        if hold:
            hold._consume(entry)
        return entry.with_env(self.env)

    @api.model
    def _insert_entry(self, values):
        """INSERT one entry and return its id: the hot path of every earn skips the ORM's create.

        Only the ledger calls this, with values it computed and hashed; the ORM's
        ``create`` stays refused to everyone else.
        """
        columns = list(values)
        now = fields.Datetime.now()
        self.env.cr.execute(SQL(
            "INSERT INTO klodr_ledger_entry (%s, create_uid, write_uid, create_date, write_date) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            SQL(", ").join(SQL.identifier(c) for c in columns),
            SQL(", ").join(values[c] for c in columns),
            self.env.uid, self.env.uid, now, now))
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
        self._expire_due_lots(progress=self.env["ir.cron"]._commit_progress)

    @api.model
    def _expire_due_lots(self, today=None, batch_size=5000, progress=None, max_batches=None, programs=None):
        """Write one ``expire`` entry per lot remainder past its expiry date.

        Set-based: lots are read, members locked and entries written in batches,
        and ``progress`` (``ir.cron._commit_progress`` in the cron) commits after
        each. A lot that is already settled has nothing left, so a second run, or a
        run after an interruption, expires nothing twice; the idempotency key
        ``expire:<lot id>`` is the last guard.

        :return: the number of lots expired.
        """
        total = 0
        batches = 0
        if programs is None:
            programs = self.env["klodr.program"].with_context(active_test=False).search([])  # pylint: disable=no-search-all
        for program in programs.sudo():
            # a lot is spendable through its expiry date in the program's own timezone
            program_today = today or pytz.utc.localize(fields.Datetime.now()).astimezone(
                pytz.timezone(program._ledger_settings()[3])).date()
            lot_ids = self._expirable_lot_ids(program, program_today)
            self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM klodr_ledger_entry")
            max_entry_id = self.env.cr.fetchone()[0]
            for start in range(0, len(lot_ids), batch_size):
                if max_batches is not None and batches >= max_batches:
                    return total
                batch = lot_ids[start:start + batch_size]
                total += self._expire_lot_batch(program, batch, program_today)
                batches += 1
                # the cron's time is up: stop here, the next run resumes (the watermark has not moved)
                time_left = progress and progress(len(batch), remaining=max(len(lot_ids) - start - len(batch), 0))
                if time_left is not None and time_left is not False and time_left <= 0:
                    return total
            # Every lot up to here is settled: the next run starts from today.
            self.env.cr.execute(SQL(
                "UPDATE klodr_program SET expiry_checked_until = %s, expiry_checked_entry_id = %s "
                "WHERE id = %s", program_today, max_entry_id, program.id))
            program.invalidate_recordset(["expiry_checked_until", "expiry_checked_entry_id"])
            if progress:
                progress(0)
        return total

    @api.model
    def _expirable_lot_ids(self, program, today):
        """Lots that expired before ``today`` and were not settled by an earlier run.

        Those expiring since the last run, plus those posted since it with an
        expiry already past (back-dated credits).
        """
        since = program.expiry_checked_until
        if not since:
            condition = SQL("TRUE")
        else:
            condition = SQL("(e.expiry_date >= %s OR e.id > %s)", since, program.expiry_checked_entry_id)
        self.env.cr.execute(SQL(
            """SELECT e.id FROM klodr_ledger_entry e
                WHERE e.program_id = %s AND e.points > 0 AND e.expiry_date < %s AND %s
                ORDER BY e.id""", program.id, today, condition))
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _expire_lot_batch(self, program, lot_ids, today):
        cr = self.env.cr
        cr.execute(SQL("SELECT DISTINCT member_id FROM klodr_ledger_entry WHERE id = ANY(%s)", lot_ids))
        members = self.env["klodr.member"].browse(sorted(row[0] for row in cr.fetchall()))
        state = members._lock_for_points()
        remainders = self._lot_remainders(lot_ids)
        cr.execute(SQL(
            "SELECT id, member_id FROM klodr_ledger_entry WHERE id = ANY(%s) ORDER BY id", lot_ids))
        now = fields.Datetime.now()
        rows = []
        new_state = {}
        for lot_id, member_id in cr.fetchall():
            left = remainders.get(lot_id, 0)
            if left <= 0:
                continue
            balance, head, _member_state = new_state.get(member_id) or state[member_id]
            values = {
                "program_id": program.id,
                "company_id": program.company_id.id,
                "member_id": member_id,
                "entry_type": "expire",
                "points": -left,
                "balance_after": balance - left,
                "date": now,
                "expiry_date": None,
                "idempotency_key": f"expire:{lot_id}",
                "source_model": None,
                "source_id": None,
                "source_ref": None,
                "store_id": None,
                "prev_hash": head or GENESIS,
            }
            values["entry_hash"] = entry_hash(values["prev_hash"], values)
            new_state[member_id] = (values["balance_after"], values["entry_hash"], _member_state)
            rows.append((lot_id, values))
        if not rows:
            return 0
        columns = ("program_id", "company_id", "member_id", "entry_type", "points", "balance_after", "date",
                   "idempotency_key", "prev_hash", "entry_hash")
        cr.execute(SQL(
            """INSERT INTO klodr_ledger_entry (program_id, company_id, member_id, entry_type, points,
                        balance_after, date, idempotency_key, prev_hash, entry_hash, description,
                        user_id, create_uid, write_uid, create_date, write_date)
               SELECT p, c, m, t, pts, bal, d, k, ph, h, 'Expired', %s, %s, %s, %s, %s
                 FROM unnest(%s::int[], %s::int[], %s::int[], %s::varchar[], %s::int[], %s::int[],
                             %s::timestamp[], %s::varchar[], %s::varchar[], %s::varchar[])
                      AS t(p, c, m, t, pts, bal, d, k, ph, h)
               RETURNING id, idempotency_key""",
            self.env.uid, self.env.uid, self.env.uid, now, now,
            *([values[column] for _lot, values in rows] for column in columns)))
        entry_by_key = {key: entry_id for entry_id, key in cr.fetchall()}
        self._insert_allocations([
            (entry_by_key[values["idempotency_key"]], lot_id, -values["points"]) for lot_id, values in rows])
        member_ids = list(new_state)
        cr.execute(SQL(
            """UPDATE klodr_member m SET balance = v.balance, chain_head = v.head
                 FROM unnest(%s::int[], %s::int[], %s::varchar[]) AS v(id, balance, head)
                WHERE m.id = v.id""",
            member_ids, [new_state[m][0] for m in member_ids], [new_state[m][1] for m in member_ids]))
        members.invalidate_recordset(["balance", "chain_head"])
        self.invalidate_model()
        return len(rows)

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
        cr.execute(SQL(
            """WITH alloc_lot AS (SELECT lot_entry_id AS id, SUM(points) AS n FROM klodr_ledger_allocation
                                   GROUP BY lot_entry_id),
                    alloc_debit AS (SELECT debit_entry_id AS id, SUM(points) AS n FROM klodr_ledger_allocation
                                     GROUP BY debit_entry_id),
                    per_member AS (
                        SELECT e.member_id,
                               SUM(e.points) AS total,
                               SUM(CASE WHEN e.points > 0 THEN e.points - COALESCE(l.n, 0) ELSE 0 END) AS lots,
                               SUM(CASE WHEN e.points < 0 THEN -e.points - COALESCE(d.n, 0) ELSE 0 END) AS debt
                          FROM klodr_ledger_entry e
                          LEFT JOIN alloc_lot l ON l.id = e.id
                          LEFT JOIN alloc_debit d ON d.id = e.id
                         WHERE %s
                         GROUP BY e.member_id),
                    holds AS (SELECT member_id, SUM(points) AS n FROM klodr_ledger_hold
                               WHERE state = 'active' AND expires_at > NOW() AT TIME ZONE 'UTC'
                               GROUP BY member_id)
               SELECT m.id, m.balance, COALESCE(p.total, 0), COALESCE(p.lots, 0), COALESCE(p.debt, 0),
                      COALESCE(h.n, 0)
                 FROM klodr_member m
                 LEFT JOIN per_member p ON p.member_id = m.id
                 LEFT JOIN holds h ON h.member_id = m.id
                WHERE %s""", scope, member_scope))
        for row in cr.fetchall():
            breaks.extend(ledger_check.check_member_totals(ledger_check.MemberTotals(*row)))
        cr.execute(SQL(
            """SELECT e.id, e.points, a.n FROM (SELECT lot_entry_id, SUM(points) AS n
                                                  FROM klodr_ledger_allocation GROUP BY lot_entry_id) a
                 JOIN klodr_ledger_entry e ON e.id = a.lot_entry_id
                WHERE (e.points <= 0 OR a.n > e.points) AND %s""", scope))
        for lot_id, points, allocated in cr.fetchall():
            breaks.extend(ledger_check.check_lot(lot_id, points, allocated))
        cr.execute(SQL(
            """SELECT e.id, e.entry_type, e.points, COALESCE(a.n, 0)
                 FROM klodr_ledger_entry e
                 LEFT JOIN (SELECT debit_entry_id, SUM(points) AS n FROM klodr_ledger_allocation
                             GROUP BY debit_entry_id) a ON a.debit_entry_id = e.id
                WHERE ((e.points < 0 AND COALESCE(a.n, 0) <> -e.points) OR (e.points > 0 AND a.n IS NOT NULL))
                  AND %s""", scope))
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
