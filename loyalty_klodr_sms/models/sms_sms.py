import logging
from collections import defaultdict
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models

from .sms_template import KLODR_EVENTS, KLODR_KINDS

_logger = logging.getLogger(__name__)

# Minutes to wait before the 2nd, 3rd... attempt after a transient failure of the gateway.
RETRY_DELAYS = (1, 5, 15, 60)
MAX_ATTEMPTS_PARAM = "loyalty_klodr_sms.max_attempts"
DEFAULT_MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
HOUSEKEEPING_LIMIT = 1000


class SmsSms(models.Model):
    _inherit = "sms.sms"

    # As sms_twilio defines it (both may be installed): the company whose provider sends it.
    record_company_id = fields.Many2one("res.company", "Company", ondelete="set null")
    failure_type = fields.Selection(selection_add=[("sms_dlt_rejected", "Refused by the DLT Gateway")])
    dlt_template_id = fields.Char(string="DLT Template ID", readonly=True)
    klodr_member_id = fields.Many2one("klodr.member", string="Loyalty Member", readonly=True,
                                      index="btree_not_null", ondelete="set null")
    klodr_redemption_id = fields.Many2one("klodr.redemption", string="Redemption", readonly=True,
                                          index="btree_not_null", ondelete="set null")
    klodr_event = fields.Selection(KLODR_EVENTS, string="Loyalty Event", readonly=True)
    klodr_kind = fields.Selection(KLODR_KINDS, string="Message Kind", readonly=True)
    klodr_send_after = fields.Datetime(
        string="Send After", readonly=True, index="btree_not_null",
        help="The queue keeps the message until then (promotional messages wait for 10:00-21:00).")
    klodr_expires_at = fields.Datetime(
        string="Void After", readonly=True, index="btree_not_null",
        help="Not sent after this moment (an OTP past its validity): cancelled and its text erased.")
    klodr_attempts = fields.Integer(string="Attempts", readonly=True)
    klodr_retry_at = fields.Datetime(
        string="Next Attempt", readonly=True, index="btree_not_null",
        help="After a transient failure of the gateway, the queue tries again at this time.")
    klodr_error_message = fields.Char(string="Last Error", readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals["record_company_id"] = vals.get("record_company_id") or self.env.company.id
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # Routing: each company's provider
    # ------------------------------------------------------------------
    def _get_sms_company(self):
        return self.mail_message_id.record_company_id or self.record_company_id or super()._get_sms_company()

    def _split_by_api(self):
        """Our providers (log, DLT) per company; the rest to Odoo (IAP) or sms_twilio."""
        by_company = defaultdict(self.browse)
        for sms in self:
            by_company[sms._get_sms_company()] |= sms
        others = self.browse()
        for company, records in by_company.items():
            if company.sms_provider in ("log", "dlt_http"):
                sms_api = company._get_sms_api_class()(self.env)
                sms_api._set_company(company)
                yield sms_api, records
            else:
                others |= records
        if others:
            yield from super(SmsSms, others)._split_by_api()

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        # Odoo's queue sends a whole batch through the provider of ``env.company``: route each
        # company's messages to its own provider instead.
        if self.env.context.get("sms_api"):
            return super()._send(unlink_failed=unlink_failed, unlink_sent=unlink_sent,
                                 raise_exception=raise_exception)
        for sms_api, records in self._split_by_api():
            super(SmsSms, records.with_context(sms_api=sms_api))._send(
                unlink_failed=unlink_failed, unlink_sent=unlink_sent, raise_exception=raise_exception)
        return None

    def _send_with_api(self, sms_api, unlink_failed=False, unlink_sent=True, raise_exception=False):
        if getattr(sms_api, "KEEP_SENT", False):
            unlink_sent = False  # the log provider keeps every message, with its text
        return super()._send_with_api(sms_api, unlink_failed=unlink_failed, unlink_sent=unlink_sent,
                                      raise_exception=raise_exception)

    def _handle_call_result_hook(self, results):
        """Keep the gateway's (redacted) reason and schedule another attempt after a transient failure."""
        by_uuid = {result.get("uuid"): result for result in results}
        now = fields.Datetime.now()
        max_attempts = self._klodr_max_attempts()
        retry_times = set()
        for sms in self:
            result = by_uuid.get(sms.uuid)
            if result is None:
                continue
            attempts = sms.klodr_attempts + 1
            values = {"klodr_attempts": attempts, "klodr_retry_at": False}
            if sms.state == "error":
                reason = result.get("failure_reason")
                values["klodr_error_message"] = reason[:500] if isinstance(reason, str) and reason else False
                expired = sms.klodr_expires_at and sms.klodr_expires_at <= now
                if result.get("klodr_retry") and attempts < max_attempts and not expired:
                    delay = RETRY_DELAYS[min(attempts - 1, len(RETRY_DELAYS) - 1)]
                    values["klodr_retry_at"] = now + timedelta(minutes=delay)
                    retry_times.add(values["klodr_retry_at"])
            elif sms.state in ("pending", "sent", "process"):
                values["klodr_error_message"] = False
            sms.write(values)
        if retry_times:
            self.env.ref("sms.ir_cron_sms_scheduler_action").sudo()._trigger(sorted(retry_times))
        return super()._handle_call_result_hook(results)

    def _klodr_max_attempts(self):
        value = self.env["ir.config_parameter"].sudo().get_param(MAX_ATTEMPTS_PARAM)
        try:
            return max(int(value), 1) if value else DEFAULT_MAX_ATTEMPTS
        except ValueError:
            return DEFAULT_MAX_ATTEMPTS

    # ------------------------------------------------------------------
    # Queue
    # ------------------------------------------------------------------
    def send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        now = fields.Datetime.now()
        ready = self.filtered(lambda sms: not sms.klodr_send_after or sms.klodr_send_after <= now)
        return super(SmsSms, ready._klodr_drop_unsendable()).send(
            unlink_failed=unlink_failed, unlink_sent=unlink_sent, raise_exception=raise_exception)

    @api.model
    def _klodr_queue_domain(self):
        return [
            ("state", "=", "outgoing"), ("to_delete", "!=", True),
            "|", ("klodr_send_after", "=", False), ("klodr_send_after", "<=", fields.Datetime.now()),
        ]

    @api.model
    def _process_queue(self):
        """Odoo's SMS cron, with our rules: scheduled messages wait, failed ones come back
        when their retry is due, expired OTPs are voided, each company uses its provider."""
        records, remaining = self._klodr_process_batch()
        if records:
            self.env["ir.cron"]._commit_progress(len(records), remaining=remaining)

    @api.model
    def _klodr_process_batch(self):
        """One batch of the queue, without committing (tests call this).

        :return: ``(sms processed, number still waiting)``.
        """
        self._klodr_housekeeping()
        domain = self._klodr_queue_domain()
        batch_size = self._get_send_batch_size()
        records = self.search(domain, limit=batch_size, order="id").try_lock_for_update()
        if not records:
            return records, 0
        records._klodr_drop_unsendable()._send(unlink_failed=False, unlink_sent=True, raise_exception=False)
        remaining = self.search_count(domain) if len(records) == batch_size else 0
        return records, remaining

    @api.model
    def _klodr_housekeeping(self):
        now = fields.Datetime.now()
        expired = self.search([("state", "in", ("outgoing", "error")), ("klodr_expires_at", "!=", False),
                               ("klodr_expires_at", "<=", now)], limit=HOUSEKEEPING_LIMIT)
        expired._klodr_void(self.env._("Expired before it could be sent."))
        due = self.search([("state", "=", "error"), ("to_delete", "!=", True), ("klodr_retry_at", "!=", False),
                           ("klodr_retry_at", "<=", now)], limit=HOUSEKEEPING_LIMIT)
        if due:
            due.write({"state": "outgoing", "failure_type": False, "klodr_retry_at": False})

    def _klodr_void(self, reason):
        """Cancel these messages and erase their text (an OTP no longer valid must not linger)."""
        if self:
            self.write({"state": "canceled", "body": False, "klodr_retry_at": False,
                        "klodr_error_message": reason})

    def _klodr_drop_unsendable(self):
        """Cancel what may no longer leave (expired; promotional without consent or blacklisted)
        and return the others."""
        now = fields.Datetime.now()
        waiting = self.filtered(lambda sms: sms.state in ("outgoing", "error"))
        expired = waiting.filtered(lambda sms: sms.klodr_expires_at and sms.klodr_expires_at <= now)
        expired._klodr_void(self.env._("Expired before it could be sent."))
        promotional = (waiting - expired).filtered(
            lambda sms: sms.klodr_kind == "promotional" and sms.klodr_member_id)
        opted_out = promotional.filtered(lambda sms: not sms.klodr_member_id._klodr_promo_consent())
        if opted_out:
            opted_out._update_sms_state_and_trackers("canceled", failure_type="sms_optout")
        blacklisted = (promotional - opted_out).filtered(
            lambda sms: self.env["klodr.member"]._klodr_is_blacklisted(sms.number))
        if blacklisted:
            blacklisted._update_sms_state_and_trackers("canceled", failure_type="sms_blacklist")
        return self - expired - opted_out - blacklisted

    # ------------------------------------------------------------------
    # Sending right away (OTP)
    # ------------------------------------------------------------------
    def _klodr_send_now(self):
        """Send these queued messages now (what the post-commit hook runs; tests call it)."""
        return self.send(unlink_failed=False, unlink_sent=True, raise_exception=False)

    def _klodr_send_after_commit(self):
        """Send once the current transaction is committed, in a transaction of its own.

        The messages stay queued meanwhile: if this fails, or never runs (tests do not run
        post-commit hooks), the SMS cron sends them.
        """
        ids = self.ids
        if not ids:
            return
        registry = self.env.registry

        def send():
            try:
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["sms.sms"].browse(ids).exists()._klodr_send_now()
            except Exception:
                _logger.exception("SMS %s: immediate sending failed, the queue will send it", ids)

        self.env.cr.postcommit.add(send)
