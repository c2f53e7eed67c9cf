import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections import namedtuple
from datetime import timedelta

import psycopg2
from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api, fields, models, sql_db
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)
KEY_PREFIX = "klk_"

# What a request learns about its key in one statement (``KlodrApiKey._request_context``).
KeyContext = namedtuple("KeyContext", "id company_id user_id program_ids retry_after")


def hash_key(token):
    return hashlib.sha256(token.encode()).hexdigest()


# Usage counting (rate windows, last use) is shared by every worker through the database, in
# transactions of its own that commit at once: the request's own transaction then never waits
# on, nor conflicts with, another request's counter. One autocommit connection per process and
# database runs those statements: one round trip, no BEGIN/COMMIT, no pool reset.
_usage_lock = threading.Lock()
_usage_connections = {}  # dbname -> (pid, connection)
_forked_connections = []  # inherited from a parent process: never used nor closed here


def _usage_fetchone(dbname, query, params):
    """Run one statement on this process's usage connection to ``dbname``; return its first row."""
    with _usage_lock:
        for attempt in range(2):
            pid, cnx = _usage_connections.get(dbname, (None, None))
            if cnx is not None and pid != os.getpid():
                _forked_connections.append(cnx)  # closing it would end the parent's session
                cnx = None
            if cnx is None or cnx.closed:
                cnx = psycopg2.connect(**sql_db.connection_info_for(dbname)[1])
                cnx.set_session(isolation_level=ISOLATION_LEVEL_READ_COMMITTED, autocommit=True)
                _usage_connections[dbname] = (os.getpid(), cnx)
            try:
                with cnx.cursor() as cr:
                    cr.execute(query, params)
                    return cr.fetchone()
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                _usage_connections.pop(dbname, None)
                try:
                    cnx.close()
                except psycopg2.Error:
                    _logger.debug("closing a broken usage connection failed", exc_info=True)
                if attempt:
                    raise
        return None


def close_usage_connections(dbname=None):
    """Close this process's usage connections (to ``dbname``, default all), e.g. before dropping it."""
    with _usage_lock:
        for name in [name for name in _usage_connections if dbname in (None, name)]:
            pid, cnx = _usage_connections.pop(name)
            if pid == os.getpid():
                cnx.close()


class KlodrApiKey(models.Model):
    """A key an integration (POS, shop, app) uses on the REST API.

    Shown once when created; only its SHA-256 is stored (keys are long random
    tokens, so a slow KDF buys nothing) and found by that hash. It belongs to one
    company, may be limited to some programs, can be revoked, and records its
    last use.
    """

    _name = "klodr.api.key"
    _description = "Loyalty API Key"
    _order = "id desc"

    name = fields.Char(required=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    program_ids = fields.Many2many("klodr.program", string="Programs",
                                   help="Empty: every program of the company.")
    key_hash = fields.Char(required=True, readonly=True, copy=False, groups="base.group_system")
    key_hint = fields.Char(string="Key", readonly=True, help="The first characters, to recognise the key.")
    active = fields.Boolean(default=True)
    revoked_at = fields.Datetime(readonly=True)
    revoked_by_id = fields.Many2one("res.users", readonly=True)
    last_used_at = fields.Datetime(readonly=True)
    rate_limit = fields.Integer(string="Requests per Minute", default=1200,
                                help="Beyond this a request gets 429 with Retry-After.")
    user_id = fields.Many2one("res.users", string="Runs As", readonly=True, required=True,
                              default=lambda self: self.env.ref("loyalty_klodr.user_klodr_api",
                                                                raise_if_not_found=False),
                              help="The API user requests run as: Loyalty User rights only.")

    _key_hash_unique = models.Constraint("UNIQUE(key_hash)", "This key already exists.")
    _rate_positive = models.Constraint("CHECK(rate_limit > 0)", "The rate limit must be positive.")

    @api.model
    def _generate(self, name, company, programs=None):
        """Create a key; return ``(record, token)``: the token is never stored nor shown again."""
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        user = self.env.ref("loyalty_klodr.user_klodr_api").sudo()
        if company not in user.company_ids:
            user.write({"company_ids": [(4, company.id)]})
        key = self.sudo().create({
            "name": name, "company_id": company.id, "program_ids": [(6, 0, programs.ids if programs else [])],
            "key_hash": hash_key(token), "key_hint": token[:10] + "…", "user_id": user.id,
        })
        return key.with_env(self.env), token

    @api.model
    def _request_context(self, token):
        """Authenticate ``token`` and count the request, in one statement that commits at once.

        Finds the active key by its hash (compared again in constant time), counts the request
        in the key's current one-minute window, records the last use (at most once a minute)
        and lists the programs the key may use. The counters commit without waiting for the
        disk (``synchronous_commit`` off for that statement only): a crash may forget the last
        counts, which is harmless for a rate limit.

        :return: a :class:`KeyContext` (``retry_after`` > 0: over the rate limit), or None when
            the token is not an active key.
        """
        if not isinstance(token, str) or not token.startswith(KEY_PREFIX) or len(token) > 200:
            return None
        digest = hash_key(token)
        cr = self.env.cr
        # Test cursors share the test's transaction: nothing to isolate, nothing to commit.
        separate = isinstance(cr, sql_db.Cursor)
        relation = self._fields["program_ids"]
        query = SQL(
            """WITH found AS (
                    SELECT id, key_hash, company_id, user_id, rate_limit FROM klodr_api_key
                     WHERE key_hash = %(digest)s AND active
               ), hit AS (
                    INSERT INTO klodr_api_rate (key_id, window_start, hits)
                    SELECT id, date_trunc('minute', now() AT TIME ZONE 'UTC'), 1 FROM found
                    ON CONFLICT (key_id, window_start) DO UPDATE SET hits = klodr_api_rate.hits + 1
                    RETURNING hits
               ), touch AS (
                    UPDATE klodr_api_key k SET last_used_at = now() AT TIME ZONE 'UTC' FROM found
                     WHERE k.id = found.id
                       AND (k.last_used_at IS NULL OR k.last_used_at < now() AT TIME ZONE 'UTC' - interval '1 minute')
               )
               SELECT found.id, found.key_hash, found.company_id, found.user_id,
                      CASE WHEN hit.hits > found.rate_limit
                           THEN GREATEST(FLOOR(EXTRACT(EPOCH FROM date_trunc('minute', now()) + interval '1 minute'
                                                                  - now()))::int + 1, 1)
                           ELSE 0 END,
                      ARRAY(SELECT p.id FROM klodr_program p
                             WHERE p.company_id = found.company_id AND p.active
                               AND (NOT EXISTS (SELECT 1 FROM %(rel)s r WHERE r.%(key_col)s = found.id)
                                    OR p.id IN (SELECT r.%(program_col)s FROM %(rel)s r WHERE r.%(key_col)s = found.id))
                             ORDER BY p.sequence, p.id),
                      %(no_sync)s
                 FROM found CROSS JOIN hit""",
            digest=digest, rel=SQL.identifier(relation.relation), key_col=SQL.identifier(relation.column1),
            program_col=SQL.identifier(relation.column2),
            no_sync=SQL("set_config('synchronous_commit', 'off', true)") if separate else SQL("NULL"))
        if separate:
            row = _usage_fetchone(cr.dbname, query.code, query.params)
        else:
            cr.execute(query)
            row = cr.fetchone()
        # The look-up is by hash; the comparison is constant-time all the same.
        if not row or not hmac.compare_digest(row[1], digest):
            return None
        return KeyContext(row[0], row[2], row[3], tuple(row[5]), row[4])

    def action_revoke(self):
        if not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise UserError(self.env._("Only a Loyalty Manager can revoke API keys."))
        self.sudo().write({"active": False, "revoked_at": fields.Datetime.now(), "revoked_by_id": self.env.uid})

    def _programs(self):
        """Programs this key may use."""
        self.ensure_one()
        domain = [("company_id", "=", self.company_id.id)]
        if self.program_ids:
            domain.append(("id", "in", self.program_ids.ids))
        return self.env["klodr.program"].sudo().search(domain)


class KlodrApiRate(models.Model):
    """Requests of a key in a one-minute window: shared by every Odoo process, in the database."""

    _name = "klodr.api.rate"
    _description = "Loyalty API Rate Window"
    _log_access = False

    key_id = fields.Many2one("klodr.api.key", required=True, ondelete="cascade")
    window_start = fields.Datetime(required=True)
    hits = fields.Integer(required=True)

    _window_unique = models.Constraint("UNIQUE(key_id, window_start)", "One counter per key and minute.")

    @api.model
    def _gc(self):
        self.env.cr.execute(
            "DELETE FROM klodr_api_rate WHERE window_start < now() AT TIME ZONE 'UTC' - interval '1 hour'")


class KlodrApiIdempotency(models.Model):
    """The first answer to a POST with an Idempotency-Key, replayed to repeats of it.

    Unique per company and key (a database constraint): two concurrent requests with
    the same key cannot both execute; the second waits, then replays or conflicts.
    """

    _name = "klodr.api.idempotency"
    _description = "Loyalty API Idempotency Record"
    _order = "id desc"

    company_id = fields.Many2one("res.company", required=True, index=True)
    key = fields.Char(required=True)
    api_key_id = fields.Many2one("klodr.api.key", ondelete="set null")
    fingerprint = fields.Char(required=True)
    status_code = fields.Integer()
    response_body = fields.Text()

    _key_unique = models.Constraint("UNIQUE(company_id, key)", "This idempotency key was already used.")

    @api.model
    def _claim(self, company_id, key, api_key_id, fingerprint, status_code=None, response_body=None):
        """Take the key for this request with its answer, in the request's transaction: a concurrent
        request with the same key waits on the unique index until this transaction ends.

        :return: ``(record id, None)`` when the key was free, else ``(None, (fingerprint,
            status_code, response_body))`` of the record that holds it.
        """
        cr = self.env.cr
        cr.execute(SQL(
            """INSERT INTO klodr_api_idempotency (company_id, key, api_key_id, fingerprint, status_code,
                                                  response_body, create_uid, write_uid, create_date, write_date)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
               ON CONFLICT (company_id, key) DO NOTHING RETURNING id""",
            company_id, key, api_key_id, fingerprint, status_code, response_body, self.env.uid, self.env.uid))
        row = cr.fetchone()
        if row:
            return row[0], None
        return None, self._held(company_id, key)

    @api.model
    def _held(self, company_id, key):
        """``(fingerprint, status_code, response_body)`` of the record holding ``key``, or None."""
        self.env.cr.execute(SQL(
            """SELECT fingerprint, status_code, response_body FROM klodr_api_idempotency
                WHERE company_id = %s AND key = %s""", company_id, key))
        return self.env.cr.fetchone()

    @api.model
    def _cron_gc(self):
        days = int(self.env["ir.config_parameter"].sudo().get_param("loyalty_klodr.idempotency_days", 7))
        self.env.cr.execute(SQL("DELETE FROM klodr_api_idempotency WHERE create_date < %s",
                                fields.Datetime.now() - timedelta(days=max(days, 7))))
        self.env["klodr.api.rate"]._gc()
