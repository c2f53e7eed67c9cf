import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from odoo.tests import common as odoo_test_common

from odoo.addons.loyalty_klodr.tests.common import KlodrRulesCommon


class FakeGateway:
    """A real HTTP server on 127.0.0.1 (random port) standing in for an SMS gateway.

    Every request is recorded (method, path, query, headers, form or JSON body). Answers are
    taken from ``answers`` in order, then ``default``: ``(status, body, delay_seconds)``.
    """

    def __init__(self, default=(200, '{"status": "success"}', 0)):
        self.requests = []
        self.answers = []
        self.default = default
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                url = urlsplit(self.path)
                record = {
                    "method": self.command,
                    "path": url.path,
                    "query": {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "raw": raw,
                    "form": {},
                    "json": None,
                }
                content_type = self.headers.get("Content-Type") or ""
                if "json" in content_type:
                    record["json"] = json.loads(raw or "null")
                elif raw:
                    record["form"] = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                gateway.requests.append(record)
                status, body, delay = gateway.answers.pop(0) if gateway.answers else gateway.default
                if callable(body):
                    body = body(record)
                if delay:
                    time.sleep(delay)
                payload = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (timeout test)

            do_GET = do_POST = _handle

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/sms/send"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class KlodrSmsCommon(KlodrRulesCommon):
    """The demo-like program (Asia/Kolkata, welcome and event rules) on a company whose SMS
    provider is ``log``, with the addon's templates."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's test harness compares the timeout with a number (and raises it to 10 s): let
        # requests to our local gateway through untouched, with the adapter's (connect, read) pair.
        if urlsplit(r.url).hostname == "127.0.0.1":
            return odoo_test_common._super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.sms_provider = "log"
        cls.program.write({"sms_signature": "KLODR", "name": "Klodr Rewards"})
        cls.SmsSms = cls.env["sms.sms"]
        cls.template_earned = cls.env.ref("loyalty_klodr_sms.sms_template_klodr_earned")
        cls.template_otp = cls.env.ref("loyalty_klodr_sms.sms_template_klodr_otp")
        # Messages other tests left queued in this database (committed) are not ours to send.
        cls.SmsSms.sudo().search([("state", "=", "outgoing")]).write({"state": "canceled"})

    def notifications(self, member):
        """``[(event, points, balance told)]`` queued for ``member`` (klodr.notify.queue), oldest first."""
        rows = self.env["klodr.notify.queue"].sudo().search([("member_id", "=", member.id)], order="id")
        return [(row.event, row.payload.get("points"), row.payload.get("balance")) for row in rows]

    def process_notifications(self):
        """What the notification queue's cron does, in this transaction, for this test's program
        (the database may hold rows of other tests): the rows processed."""
        members = self.env["klodr.member"].sudo().search([("program_id", "=", self.program.id)])
        return self.env["klodr.notify.queue"].sudo()._process(members=members)

    def member_sms(self, member, event=None):
        domain = [("klodr_member_id", "=", member.id)]
        if event:
            domain.append(("klodr_event", "=", event))
        return self.SmsSms.search(domain, order="id")

    def run_queue(self):
        """One batch of Odoo's SMS cron, without its commit."""
        return self.SmsSms._klodr_process_batch()[0]

    def use_gateway(self, gateway, **settings):
        """Point the company at ``gateway`` as its DLT provider (MSG91-like names by default)."""
        values = {
            "sms_provider": "dlt_http",
            "sms_dlt_url": gateway.url,
            "sms_dlt_method": "post_form",
            "sms_dlt_auth_in": "header",
            "sms_dlt_auth_name": "authkey",
            "sms_dlt_auth_value": "KEY-5f2a9c",
            "sms_dlt_sender_id": "KLODRR",
            "sms_dlt_entity_id": "1201159876543210",
            "sms_dlt_param_to": "mobiles",
            "sms_dlt_param_message": "message",
            "sms_dlt_param_sender": "sender",
            "sms_dlt_param_entity": "PE_ID",
            "sms_dlt_param_template": "DLT_TE_ID",
            "sms_dlt_extra_params": "route=4&country=91",
            "sms_dlt_unicode_params": "unicode=1",
            "sms_dlt_number_format": "digits",
            "sms_dlt_success_key": "status",
            "sms_dlt_success_value": "success",
        }
        values.update(settings)
        self.company.write(values)

    def start_gateway(self, **kwargs):
        gateway = FakeGateway(**kwargs).start()
        self.addCleanup(gateway.stop)
        return gateway
