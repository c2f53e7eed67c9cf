import hashlib
import hmac
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

KEY_PREFIX = "klk_"


def hash_key(token):
    return hashlib.sha256(token.encode()).hexdigest()


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
    def _authenticate(self, token):
        """The active key for ``token``, or an empty recordset."""
        if not isinstance(token, str) or not token.startswith(KEY_PREFIX) or len(token) > 200:
            return self.browse()
        digest = hash_key(token)
        self.env.cr.execute(SQL("SELECT id, key_hash FROM klodr_api_key WHERE key_hash = %s AND active", digest))
        row = self.env.cr.fetchone()
        # The look-up is by hash; the comparison is constant-time all the same.
        if not row or not hmac.compare_digest(row[1], digest):
            return self.browse()
        return self.sudo().browse(row[0])

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

    def _touch(self, cr):
        """Record the last use, at most once a minute (in the caller's side cursor)."""
        cr.execute(SQL(
            """UPDATE klodr_api_key SET last_used_at = now() AT TIME ZONE 'UTC'
                WHERE id = %s
                  AND (last_used_at IS NULL OR last_used_at < now() AT TIME ZONE 'UTC' - interval '1 minute')""",
            self.id))

    def _hit(self, cr):
        """Count one request in this minute's window; return the seconds to wait (0: allowed)."""
        cr.execute(SQL(
            """INSERT INTO klodr_api_rate (key_id, window_start, hits)
               VALUES (%s, date_trunc('minute', now() AT TIME ZONE 'UTC'), 1)
               ON CONFLICT (key_id, window_start) DO UPDATE SET hits = klodr_api_rate.hits + 1
               RETURNING hits, EXTRACT(EPOCH FROM (date_trunc('minute', now()) + interval '1 minute' - now()))""",
            self.id))
        hits, left = cr.fetchone()
        return max(int(left) + 1, 1) if hits > self.rate_limit else 0


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
    def _claim(self, company, key, api_key, fingerprint):
        """Take the key for this request: ``(record, replay)`` where replay is the stored record
        when the key was already used (the caller compares fingerprints)."""
        self.env.cr.execute(SQL(
            """INSERT INTO klodr_api_idempotency (company_id, key, api_key_id, fingerprint, create_date, write_date)
               VALUES (%s, %s, %s, %s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
               ON CONFLICT (company_id, key) DO NOTHING RETURNING id""",
            company.id, key, api_key.id, fingerprint))
        row = self.env.cr.fetchone()
        if row:
            return self.sudo().browse(row[0]), False
        return self.sudo().search([("company_id", "=", company.id), ("key", "=", key)], limit=1), True

    @api.model
    def _cron_gc(self):
        days = int(self.env["ir.config_parameter"].sudo().get_param("loyalty_klodr.idempotency_days", 7))
        self.env.cr.execute(SQL("DELETE FROM klodr_api_idempotency WHERE create_date < %s",
                                fields.Datetime.now() - timedelta(days=max(days, 7))))
        self.env["klodr.api.rate"]._gc()
