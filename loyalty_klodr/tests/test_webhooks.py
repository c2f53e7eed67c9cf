"""Webhooks end to end: a real receiver on 127.0.0.1 gets signed, retried, logged deliveries."""
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

import requests
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.loyalty_klodr.tools import webhooks as pure

from .common import KlodrRulesCommon

T0 = datetime(2026, 5, 1, 10, 0, 0)


def no_commit(*_args, **_kwargs):
    """The cron's progress callback commits; tests must not."""


class Receiver:
    """An HTTP server on 127.0.0.1 (random port, own thread) that records each POST.

    ``script``: the statuses of the next answers, in order (then 200); a 3xx redirects elsewhere.
    """

    def __init__(self):
        self.received = []
        self.script = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append({"path": self.path, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                status = receiver.script.pop(0) if receiver.script else 200
                answer = b'{"ok":true}' if status == 200 else b"boom " * 1000
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "https://elsewhere.example.com/steal")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def reset(self):
        self.received.clear()
        self.script.clear()


@tagged("post_install", "-at_install")
class TestWebhooks(KlodrRulesCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["klodr.webhook"].search([]).active = False  # webhooks the database may hold stay quiet
        cls.receiver = Receiver()
        cls.addClassCleanup(cls.receiver.stop)
        cls.Webhook = cls.env["klodr.webhook"]
        cls.Delivery = cls.env["klodr.webhook.delivery"]
        cls.events = {e.code: e for e in cls.env["klodr.webhook.event"].search([])}
        cls.program.otp_required = False
        cls.send_kwargs = []

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        """Odoo's test guard lets 127.0.0.1 through but compares the timeout with a number: ours is a
        (connect, read) pair. Record what was asked, then hand it a number."""
        cls.send_kwargs.append(dict(kw))
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        self.receiver.reset()
        self.send_kwargs.clear()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM klodr_webhook_delivery")
        self.last_delivery_id = self.env.cr.fetchone()[0]

    def new_deliveries(self):
        """The deliveries queued by this test (the database may hold others)."""
        return self.Delivery.search([("id", ">", self.last_delivery_id)])

    def make_webhook(self, events, path="/hook", **values):
        return self.Webhook.create(dict({
            "name": f"Hook {path}", "url": self.receiver.url + path, "company_id": self.company.id,
            "event_ids": [(6, 0, [self.events[code].id for code in events])],
        }, **values))

    def deliver(self, when, progress=no_commit):
        with freeze_time(when):
            return self.Delivery._deliver_due(progress=progress)

    def earn(self, member, amount, order_ref, when=T0, notify=True, **kwargs):
        """A purchase, then (``notify``) what the notification queue's cron does right after it."""
        with freeze_time(when):
            transaction = member._earn_order(amount, order_ref=order_ref, **kwargs)
            if notify:
                self.env["klodr.notify.queue"].sudo()._process(members=member)
            return transaction

    def assertSigned(self, request, webhook, when):
        header = request["headers"]["x-klodr-signature"]
        self.assertTrue(pure.verify(webhook.secret, request["body"], header, when), header)
        return json.loads(request["body"])

    # ------------------------------------------------------------------
    def test_purchase_delivers_a_signed_payload(self):
        webhook = self.make_webhook(["points.earned"])
        member = self.make_member("9845019001")
        with patch.object(requests, "post", side_effect=AssertionError("HTTP inside the business transaction")):
            transaction = self.earn(member, 1200, "POS/W1", store=self.store_a)
        delivery = self.Delivery.search([("webhook_id", "=", webhook.id)])
        self.assertEqual((delivery.event, delivery.state, delivery.member_id), ("points.earned", "queued", member))
        self.assertEqual(self.receiver.received, [])  # queued only

        self.assertEqual(self.deliver(T0 + timedelta(seconds=5)), 1)
        (request,) = self.receiver.received
        self.assertEqual(request["path"], "/hook")
        self.assertEqual(request["headers"]["x-klodr-event"], "points.earned")
        self.assertEqual(request["headers"]["x-klodr-delivery"], delivery.uuid)
        self.assertEqual(request["headers"]["content-type"], "application/json; charset=utf-8")
        self.assertTrue(request["headers"]["x-klodr-signature"].startswith(
            f"t={pure.unix(T0 + timedelta(seconds=5))},v1="))
        payload = self.assertSigned(request, webhook, T0 + timedelta(seconds=6))
        self.assertEqual(request["body"].decode(), delivery.payload)
        self.assertEqual(payload, {
            "id": delivery.uuid, "event": "points.earned", "created_at": "2026-05-01T10:00:00+00:00",
            "company_id": self.company.id, "program_id": self.program.id,
            "data": {
                "member": {"id": member.id, "code": member.code, "mobile": "+919845019001", "balance": 120,
                           "tier": {"code": "bronze", "name": "Bronze"}},
                "points": 120, "transaction_id": transaction.id, "order_ref": "POS/W1", "amount": "1200.00",
                "store_ref": "TST-A", "occurred_at": "2026-05-01T10:00:00+00:00",
            },
        })
        self.assertEqual((self.send_kwargs[0]["timeout"], self.send_kwargs[0]["allow_redirects"]), ((5, 10), False))
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_status_code, delivery.last_response,
                          delivery.sent_at, delivery.next_attempt_at),
                         ("sent", 1, 200, '{"ok":true}', T0 + timedelta(seconds=5), False))
        self.assertEqual(self.deliver(T0 + timedelta(hours=1)), 0)  # sent once
        self.assertEqual(len(self.receiver.received), 1)
        self.assertEqual((webhook.delivery_count, webhook.sent_count, webhook.pending_count), (1, 1, 0))

    def test_failing_receiver_is_retried_with_backoff_then_succeeds(self):
        webhook = self.make_webhook(["points.earned"])
        member = self.make_member("9845019002")
        self.earn(member, 500, "POS/W2")
        delivery = self.Delivery.search([("webhook_id", "=", webhook.id)])
        self.receiver.script = [500, 503]

        self.deliver(T0)
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_status_code, delivery.last_error),
                         ("failed", 1, 500, "HTTP 500"))
        self.assertEqual(delivery.next_attempt_at, T0 + timedelta(minutes=1))
        self.assertEqual(len(delivery.last_response), 2000)  # a long answer is truncated
        self.assertEqual(self.deliver(T0 + timedelta(seconds=59)), 0)  # not due yet

        self.deliver(T0 + timedelta(minutes=1))
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_status_code), ("failed", 2, 503))
        self.assertEqual(delivery.next_attempt_at, T0 + timedelta(minutes=6))
        self.assertEqual(self.deliver(T0 + timedelta(minutes=5)), 0)

        self.deliver(T0 + timedelta(minutes=6))
        self.assertEqual((delivery.state, delivery.attempts, delivery.last_status_code, delivery.last_error),
                         ("sent", 3, 200, False))
        times = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=6)]
        self.assertEqual(len(self.receiver.received), 3)
        for request, when in zip(self.receiver.received, times, strict=True):
            # Every attempt: the same event id and body, a fresh timestamp and signature.
            self.assertEqual(request["headers"]["x-klodr-delivery"], delivery.uuid)
            self.assertEqual(request["body"], self.receiver.received[0]["body"])
            self.assertSigned(request, webhook, when)
            self.assertFalse(pure.verify(webhook.secret, request["body"], request["headers"]["x-klodr-signature"],
                                         when + timedelta(minutes=6)))
        self.assertEqual([r["headers"]["x-klodr-attempt"] for r in self.receiver.received], ["1", "2", "3"])

    def test_dead_after_the_last_attempt_and_retried_by_hand(self):
        webhook = self.make_webhook(["points.earned"])
        self.earn(self.make_member("9845019003"), 500, "POS/W3")
        delivery = self.Delivery.search([("webhook_id", "=", webhook.id)])
        self.receiver.script = [500] * 8
        when = T0
        for attempt in range(1, 9):
            self.assertEqual(self.deliver(when), 1)
            self.assertEqual(delivery.attempts, attempt)
            if attempt < 8:
                self.assertEqual(delivery.state, "failed")
                self.assertEqual(delivery.next_attempt_at - when, pure.BACKOFF[attempt - 1])
                when = delivery.next_attempt_at
        self.assertEqual((delivery.state, delivery.next_attempt_at), ("dead", False))
        self.assertEqual(when - T0, sum(pure.BACKOFF, timedelta()))  # about two days of retries
        self.assertEqual(self.deliver(when + timedelta(days=30)), 0)
        self.assertEqual(len(self.receiver.received), 8)
        self.assertEqual(webhook.dead_count, 1)

        delivery.with_user(self.user_manager).action_retry()  # "Retry now": one more try, at once
        self.assertEqual((delivery.state, delivery.attempts, len(self.receiver.received)), ("sent", 9, 9))

    def test_replayed_or_tampered_requests_are_rejected(self):
        webhook = self.make_webhook(["points.earned"])
        self.earn(self.make_member("9845019004"), 500, "POS/W4")
        self.deliver(T0)
        (request,) = self.receiver.received
        header = request["headers"]["x-klodr-signature"]
        self.assertTrue(pure.verify(webhook.secret, request["body"], header, T0 + timedelta(seconds=299)))
        self.assertFalse(pure.verify(webhook.secret, request["body"], header, T0 + timedelta(seconds=301)))
        self.assertFalse(pure.verify(webhook.secret, request["body"].replace(b"500", b"900"), header, T0))
        self.assertFalse(pure.verify("whsec_guess", request["body"], header, T0))

    def test_redirects_are_not_followed(self):
        webhook = self.make_webhook(["points.earned"])
        self.earn(self.make_member("9845019005"), 500, "POS/W5")
        self.receiver.script = [302]
        self.deliver(T0)
        delivery = self.Delivery.search([("webhook_id", "=", webhook.id)])
        self.assertEqual((delivery.state, delivery.last_status_code), ("failed", 302))
        self.assertIn("not followed", delivery.last_error)
        self.assertEqual(len(self.receiver.received), 1)

    def test_unreachable_receiver_fails_with_the_error(self):
        closed = Receiver()
        closed.stop()  # a port where nobody listens any more
        webhook = self.make_webhook(["points.earned"], url=closed.url + "/hook")
        self.earn(self.make_member("9845019006"), 500, "POS/W6")
        self.deliver(T0)
        delivery = self.Delivery.search([("webhook_id", "=", webhook.id)])
        self.assertEqual((delivery.state, delivery.last_status_code), ("failed", 0))
        self.assertIn("ConnectionError", delivery.last_error)

    def test_purchase_queues_its_deliveries_through_the_notification_queue(self):
        webhook = self.make_webhook(["points.earned"])
        member = self.make_member("9845019011")
        self.earn(member, 1200, "POS/W11", notify=False)
        self.earn(member, 800, "POS/W12", notify=False)
        self.assertFalse(self.Delivery.search([("webhook_id", "=", webhook.id)]), "not built during the purchase")
        Queue = self.env["klodr.notify.queue"].sudo()
        self.assertEqual(Queue.search([("member_id", "=", member.id)]).mapped("event"), ["earned", "earned"])
        with freeze_time(T0 + timedelta(seconds=2)):
            self.assertEqual(Queue._process(members=member), 2)
            self.assertEqual(Queue._process(members=member), 0)  # once
        deliveries = self.Delivery.search([("webhook_id", "=", webhook.id)], order="id")
        data = [json.loads(d.payload)["data"] for d in deliveries]
        # each tells the balance after its own purchase, not the balance when it was built
        self.assertEqual([(d["order_ref"], d["points"], d["member"]["balance"]) for d in data],
                         [("POS/W11", 120, 120), ("POS/W12", 80, 200)])
        self.assertFalse(Queue.search([("member_id", "=", member.id)]))

    def test_only_the_company_programs_and_events_subscribed(self):
        hook = self.make_webhook(["points.earned"], path="/mine")
        other_program = self.env["klodr.program"].create({"name": "Other Program", "company_id": self.company.id})
        self.make_webhook(["points.earned"], path="/other-program", program_ids=[(6, 0, other_program.ids)])
        self.make_webhook(["member.enrolled"], path="/other-event")
        self.make_webhook(["points.earned"], path="/archived", active=False)
        with self.env.cr.savepoint():
            other_hook = self.Webhook.create({
                "name": "Other company", "url": self.receiver.url + "/other-company",
                "company_id": self.other_company.id, "event_ids": [(6, 0, self.events["points.earned"].ids)]})
        scoped = self.make_webhook(["points.earned"], path="/this-program", program_ids=[(6, 0, self.program.ids)])

        self.earn(self.make_member("9845019007"), 500, "POS/W7")
        self.assertEqual(self.new_deliveries().webhook_id, hook | scoped)
        self.assertFalse(other_hook.delivery_ids)
        self.deliver(T0)
        self.assertEqual(sorted(r["path"] for r in self.receiver.received), ["/mine", "/this-program"])

    def test_nothing_queued_or_sent_when_the_business_transaction_fails(self):
        self.make_webhook(["points.earned", "member.enrolled", "redemption.cancelled"])
        member = self.make_member("9845019008", points=500)
        with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():
            self.earn(member, 800, "POS/W8")
            self.assertEqual(len(self.new_deliveries()), 1)  # queued with the purchase...
            _ = 1 / 0  # ...that then fails
        self.assertFalse(self.new_deliveries())  # ...and went with it
        with self.assertRaises(Exception), self.env.cr.savepoint():  # noqa: B017 - any refusal
            self.env["klodr.member"]._enroll(self.program, {"name": "Dup", "mobile": "9845019008"})
        with freeze_time(T0):
            redemption = self.env["klodr.redemption"]._start(member, points=200, order_ref="POS/W8b")
            redemption._cancel()
            with self.assertRaises(Exception), self.env.cr.savepoint():  # noqa: B017 - nothing to cancel
                redemption._cancel()
        self.assertEqual(self.new_deliveries().mapped("event"), ["redemption.cancelled"])
        self.assertEqual(self.deliver(T0), 1)
        self.assertEqual(len(self.receiver.received), 1)

    def test_member_lifecycle_events(self):
        webhook = self.make_webhook([code for code, _name in pure.EVENTS])
        with freeze_time(T0):
            member = self.env["klodr.member"]._enroll(self.program, {"name": "Meera", "mobile": "9845019009"},
                                                      store=self.store_b)
        self.earn(member, 10000, "POS/W9", when=T0 + timedelta(minutes=1))  # 1000 + 250 bonus: Silver
        with freeze_time(T0 + timedelta(minutes=2)):
            redemption = self.env["klodr.redemption"]._start(member, points=200, order_ref="POS/W9",
                                                              store=self.store_a)
            redemption._cancel(reason="changed mind")
        deliveries = self.Delivery.search([("webhook_id", "=", webhook.id)], order="id")
        self.assertEqual(deliveries.mapped("event"), ["member.enrolled", "tier.changed", "points.earned",
                                                      "points.redeemed", "redemption.cancelled"])
        self.assertEqual(len(set(deliveries.mapped("uuid"))), 5)
        data = [json.loads(d.payload)["data"] for d in deliveries]
        enrolled, tier, earned, redeemed, cancelled = data
        self.assertEqual(enrolled["member"], {"id": member.id, "code": member.code, "mobile": "+919845019009",
                                              "name": "Meera", "balance": 100,
                                              "tier": {"code": "bronze", "name": "Bronze"}})
        self.assertEqual((enrolled["store_ref"], enrolled["referral_code"]), ("TST-B", member.referral_code))
        self.assertEqual((tier["from_tier"]["code"], tier["to_tier"]["code"]), ("bronze", "silver"))
        self.assertEqual((earned["points"], earned["member"]["balance"], earned["member"]["tier"]["code"]),
                         (1250, 1350, "silver"))
        self.assertEqual(redeemed, {
            "member": dict(earned["member"], balance=1150), "points": 200, "redemption_id": redemption.id,
            "redemption_ref": redemption.name, "order_ref": "POS/W9", "reward_id": None,
            "discount_amount": "50.00", "store_ref": "TST-A"})
        self.assertEqual((cancelled["status"], cancelled["points_returned"], cancelled["reason"],
                          cancelled["member"]["balance"], cancelled["redemption_id"]),
                         ("reversed", 200, "changed mind", 1350, redemption.id))
        for delivery in deliveries:
            self.assertNotIn("otp", delivery.payload.lower())
        self.assertEqual(self.deliver(T0 + timedelta(hours=1)), 5)
        self.assertEqual([r["headers"]["x-klodr-event"] for r in self.receiver.received], deliveries.mapped("event"))
        for request in self.receiver.received:
            self.assertSigned(request, webhook, T0 + timedelta(hours=1))

    def test_points_expiring_once_per_member_and_date(self):
        webhook = self.make_webhook(["points.expiring"])
        with freeze_time(T0):
            today = self.env["klodr.member"]._local_today(self.program)
            member = self.make_member("9845019010")
            self.ledger._post(member, "earn", 300, source_ref="a", expiry_date=today + timedelta(days=5))
            self.ledger._post(member, "earn", 50, source_ref="b", expiry_date=today + timedelta(days=5))
            self.ledger._post(member, "earn", 70, source_ref="c", expiry_date=today + timedelta(days=20))
            self.ledger._post(member, "redeem", -100, source_ref="d")  # consumes the oldest lots first
            quiet = self.make_member("9845019011")
            self.ledger._post(quiet, "earn", 90, source_ref="e", expiry_date=today + timedelta(days=30))

        with freeze_time(T0):
            first = self.Webhook._enqueue_expiring()
        self.assertEqual(len(first), 1)
        self.assertEqual(json.loads(first.payload)["data"], {
            "member": {"id": member.id, "code": member.code, "mobile": "+919845019010", "balance": 320,
                       "tier": {"code": "bronze", "name": "Bronze"}},
            "expiry_date": (today + timedelta(days=5)).isoformat(), "points": 250, "days_left": 5})
        with freeze_time(T0 + timedelta(days=1)):
            self.assertFalse(self.Webhook._enqueue_expiring())  # once per member and date
        with freeze_time(T0 + timedelta(days=14)):
            later = self.Webhook._enqueue_expiring()
        self.assertEqual(json.loads(later.payload)["data"]["points"], 70)
        self.assertEqual(later.member_id, member)
        webhook.expiring_days = 60
        with freeze_time(T0 + timedelta(days=14)):
            self.assertEqual(self.Webhook._enqueue_expiring().member_id, quiet)
        self.deliver(T0 + timedelta(days=14))
        self.assertEqual(len(self.receiver.received), 3)

    def test_progress_is_called_after_each_delivery_and_can_stop_the_run(self):
        self.make_webhook(["points.earned"])
        for number in range(3):
            self.earn(self.make_member(f"984501902{number}"), 500, f"POS/P{number}")
        calls = []

        def out_of_time(done, remaining=None):
            calls.append((done, remaining))
            return 0  # what _commit_progress answers when the cron's time is up

        self.assertEqual(self.deliver(T0, progress=out_of_time), 1)
        self.assertEqual(calls, [(1, 2)])
        self.assertEqual(self.deliver(T0, progress=lambda *a, **k: calls.append(a) or 60.0), 2)
        self.assertEqual(len(self.receiver.received), 3)

    def test_a_delivery_that_cannot_be_tried_does_not_block_the_queue(self):
        webhook = self.make_webhook(["points.earned"])
        for number in range(2):
            self.earn(self.make_member(f"984501903{number}"), 500, f"POS/B{number}")
        first, second = self.Delivery.search([("webhook_id", "=", webhook.id)], order="id")
        original = type(self.Delivery)._headers

        def broken_for_first(delivery, body, now):
            if delivery == first:
                raise KeyError("bad data")
            return original(delivery, body, now)

        with patch.object(type(self.Delivery), "_headers", broken_for_first), \
                self.assertLogs("odoo.addons.loyalty_klodr.models.klodr_webhook", "ERROR"):
            self.assertEqual(self.deliver(T0), 2)
        self.assertEqual((first.state, first.attempts, first.last_error), ("failed", 1, "KeyError: 'bad data'"))
        self.assertEqual(second.state, "sent")
        self.assertEqual(len(self.receiver.received), 1)

    def test_test_event_and_secret_regeneration(self):
        webhook = self.make_webhook(["points.earned"]).with_user(self.user_manager)
        old_secret = webhook.secret
        with freeze_time(T0):
            action = webhook.action_send_test()
        delivery = self.Delivery.browse(action["res_id"])
        self.assertEqual((delivery.event, delivery.state), ("ping", "sent"))
        payload = self.assertSigned(self.receiver.received[0], webhook, T0)
        self.assertEqual((payload["event"], payload["program_id"]), ("ping", None))

        webhook.action_regenerate_secret()
        self.assertNotEqual(webhook.secret, old_secret)
        self.assertTrue(webhook.secret.startswith("whsec_"))
        with freeze_time(T0):
            webhook.action_send_test()
        request = self.receiver.received[1]
        self.assertFalse(pure.verify(old_secret, request["body"], request["headers"]["x-klodr-signature"], T0))
        self.assertSigned(request, webhook, T0)
        self.assertNotIn(old_secret, "".join(str(body) for body in webhook.message_ids.mapped("body")))
        self.assertNotIn(webhook.secret, "".join(str(body) for body in webhook.message_ids.mapped("body")))

    def test_urls_refused_in_clear(self):
        for url in ("http://crm.example.com/hook", "ftp://example.com/", "http://10.1.1.1/hook", "not a url"):
            with self.subTest(url=url), self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.make_webhook(["points.earned"], url=url)
        for url in ("https://crm.example.com/hook", "http://localhost:8069/hook", "http://127.0.0.1/hook"):
            self.assertEqual(self.make_webhook(["points.earned"], url=url).url, url)
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.make_webhook([])  # no event
        other_program = self.env["klodr.program"].create({"name": "Elsewhere", "company_id": self.other_company.id})
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.make_webhook(["points.earned"], program_ids=[(6, 0, other_program.ids)])

    def test_access(self):
        webhook = self.make_webhook(["points.earned"])
        self.earn(self.make_member("9845019012"), 500, "POS/A1")
        delivery = webhook.delivery_ids
        # Managers configure everything and see the secret.
        manager_hook = self.make_webhook(["points.earned"]).with_user(self.user_manager)
        manager_hook.write({"name": "Renamed"})
        self.assertTrue(manager_hook.secret)
        # Auditors read webhooks and deliveries, never the secret, and change nothing.
        auditor = self.env(user=self.user_auditor)
        self.assertEqual(auditor["klodr.webhook.delivery"].search([("id", "=", delivery.id)]).event, "points.earned")
        self.assertEqual(webhook.with_env(auditor).url, webhook.url)
        with self.assertRaises(AccessError):
            webhook.with_env(auditor).read(["secret"])
        for action in (lambda: delivery.with_env(auditor).action_retry(),
                       lambda: webhook.with_env(auditor).action_regenerate_secret(),
                       lambda: webhook.with_env(auditor).write({"url": "https://evil.example.com"})):
            with self.assertRaises(AccessError):
                action()
        # Cashiers see none of it.
        cashier = self.env(user=self.user_cashier)
        for model in ("klodr.webhook", "klodr.webhook.delivery"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                cashier[model].search([])
        # Another company's manager sees nothing of this company's webhooks.
        other = self.env(user=self.other_manager)
        self.assertFalse(other["klodr.webhook"].search([]))
        self.assertFalse(other["klodr.webhook.delivery"].search([]))
        with self.assertRaises(AccessError):
            delivery.with_env(other).action_retry()

    def test_old_deliveries_are_cleaned(self):
        webhook = self.make_webhook(["points.earned"])
        self.earn(self.make_member("9845019013"), 500, "POS/G1")
        self.deliver(T0)
        with freeze_time(fields.Datetime.to_datetime(T0) + timedelta(days=91)):
            self.Delivery._gc_old_deliveries()
        self.assertFalse(webhook.delivery_ids)
