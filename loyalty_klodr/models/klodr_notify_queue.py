"""Member notifications sent after the request that caused them (SMS, webhooks...).

An earn does not render its "points earned" SMS nor build its webhook payload while the
cashier or the integration waits: it writes one row here, in its own transaction (a sale that
rolls back queues nothing; a crash after the commit loses nothing), and wakes a cron. The cron
calls ``klodr.member._klodr_notify`` for each row and deletes the row in the same transaction
as what the notification queued (``sms.sms``, ``klodr.webhook.delivery``): each happens once.
What the member is told (balance, tier) is the snapshot taken when the row was written.
"""
import json
import logging

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)
BATCH_SIZE = 200
CRON_XMLID = "loyalty_klodr.ir_cron_klodr_notify_queue"


class KlodrNotifyQueue(models.Model):
    _name = "klodr.notify.queue"
    _description = "Loyalty Notification Queue"
    _order = "id"
    _log_access = False

    member_id = fields.Many2one("klodr.member", required=True, readonly=True, index=True, ondelete="cascade")
    event = fields.Char(required=True, readonly=True)
    payload = fields.Json(readonly=True, help="The notification's values; records as [model, ids].")
    create_date = fields.Datetime(readonly=True)

    @api.model
    def _encode(self, values):
        encoded = {}
        for name, value in values.items():
            if isinstance(value, models.BaseModel):
                encoded[name] = {"model": value._name, "ids": list(value.ids)}
            else:
                encoded[name] = value
        return encoded

    @api.model
    def _decode(self, payload):
        values = {}
        for name, value in (payload or {}).items():
            if isinstance(value, dict) and set(value) == {"model", "ids"} and value["model"] in self.env:
                values[name] = self.env[value["model"]].browse(value["ids"]).exists()
            else:
                values[name] = value
        return values

    @api.model
    def _enqueue(self, members, event, values):
        """Queue ``event`` for ``members`` (one row each) and wake the cron: one statement.

        Like ``ir.cron._trigger()`` (a trigger row, the cron workers notified after the commit),
        but only when no trigger of the cron is pending: under load one wake-up serves many rows.
        """
        if not members:
            return
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(CRON_XMLID, raise_if_not_found=False)  # cached
        payloads = [json.dumps(self._encode(dict(values, **member_values)))
                    for member_values in (member._klodr_notify_snapshot() for member in members)]
        now = fields.Datetime.now()
        query = SQL(
            """WITH queued AS (
                   INSERT INTO klodr_notify_queue (member_id, event, payload, create_date)
                   SELECT unnest(%(members)s::int[]), %(event)s, unnest(%(payloads)s::jsonb[]), %(now)s
                   RETURNING id)
               INSERT INTO ir_cron_trigger (cron_id, call_at)
               SELECT %(cron)s, %(now)s
                WHERE %(cron)s IS NOT NULL AND EXISTS (SELECT 1 FROM queued)
                  AND NOT EXISTS (SELECT 1 FROM ir_cron_trigger WHERE cron_id = %(cron)s)
               RETURNING id""",
            members=members.ids, event=event, payloads=payloads, now=now, cron=cron_id or None)
        self.env.cr.execute(query)
        if self.env.cr.fetchone():
            self.env.cr.postcommit.add(self.env["ir.cron"]._notifydb)
        self.env["ir.cron.trigger"].invalidate_model()
        self.invalidate_model()

    @api.model
    def _cron_process(self):
        """The cron: every queued notification, in batches committed one by one."""
        while True:
            done = self._process(BATCH_SIZE)
            if not done:
                return
            self.env["ir.cron"]._commit_progress(done)

    @api.model
    def _process(self, limit=BATCH_SIZE, members=None):
        """Send up to ``limit`` queued notifications, oldest first, and delete their rows (in the
        caller's transaction). Rows another run holds are skipped, so two runs never send one twice.

        :param members: only the rows of these members (tests); default every row.
        :return: the number of rows processed.
        """
        self.env.cr.execute(SQL(
            """SELECT id, member_id, event, payload FROM klodr_notify_queue %s
                ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
            SQL("WHERE member_id = ANY(%s)", members.ids) if members is not None else SQL(), limit))
        rows = self.env.cr.fetchall()
        if not rows:
            return 0
        Member = self.env["klodr.member"].sudo()
        for _row_id, member_id, event, payload in rows:
            member = Member.browse(member_id)
            try:
                with self.env.cr.savepoint():
                    member._klodr_notify(event, **self._decode(payload))
            except Exception as exc:
                if isinstance(exc, psycopg2.Error):
                    raise
                # As _klodr_notify's own channels do: a notification that cannot be built is logged, not retried.
                _logger.exception("Loyalty: the %s notification of member %s failed", event, member_id)
        self.env.cr.execute(SQL("DELETE FROM klodr_notify_queue WHERE id = ANY(%s)", [row[0] for row in rows]))
        self.invalidate_model()
        return len(rows)
