"""The earn request's short path keeps every guarantee (real Odoo server, committed transactions).

The answer of POST /transactions is built from what the request wrote, not read back:
it must equal what the database holds. A refusal rolls the request's work back and
is then recorded for replay; the order reference is unique by the database index,
also between concurrent requests under different Idempotency-Keys; a request is
counted and the key's last use recorded even when the request itself is refused.
"""
import threading
import uuid

import pytest
import test_api_contract as contract
from test_api_contract import Client, earn, enroll, error_code

# the contract tests' fixtures: the demo program, keys, a client of the real server
world = contract.world
client = contract.client


def test_answer_is_what_the_database_holds(client, world, committed):
    program = world["demo"]
    member = enroll(client, program)
    answer = earn(client, program, member["code"], "12000.00").json()  # 1200 + 250: Silver

    def read(env):
        txn = env["klodr.transaction"].browse(answer["transaction_id"])
        return {
            "transaction_id": txn.id, "order_ref": txn.order_ref, "points_earned": txn.points_earned,
            "breakdown": [{"rule": a.label, "points": a.points} for a in txn.award_ids],
            "balance": txn.member_id.balance,
            "tier": {"code": txn.member_id.tier_id.code, "name": txn.member_id.tier_id.name},
            "entries": [(e.entry_type, e.points, e.idempotency_key) for e in txn.entry_ids.sorted("id")],
            "company": txn.company_id == txn.program_id.company_id,
            "breaks": [str(b) for b in env["klodr.ledger.entry"]._verify_ledger([program])
                       if b.record_id == txn.member_id.id],
        }
    stored = committed(read)
    assert answer == {k: v for k, v in stored.items() if k not in ("entries", "company", "breaks")}
    assert answer["points_earned"] == 1450 and answer["balance"] == 1550 and answer["tier"]["code"] == "silver"
    txn_id = answer["transaction_id"]
    assert stored["entries"] == [("earn", 1200, f"order:{txn_id}:earn"), ("bonus", 250, f"order:{txn_id}:bonus")]
    assert stored["company"] and stored["breaks"] == []


def test_a_refusal_is_rolled_back_then_replayed(client, world, committed):
    program = world["demo"]
    member = enroll(client, program)

    def block(env):
        found = env["klodr.member"].browse(member["id"])
        found.write({"state": "blocked"})
        return found.points_version
    version = committed(block)
    key = f"refused-{uuid.uuid4().hex}"
    body = {"program_id": program, "member": member["code"], "amount": 1000, "order_ref": uuid.uuid4().hex}
    first = client.post("/transactions", body, key=key)
    assert first.status_code == 422 and error_code(first) == "member_inactive"
    again = client.post("/transactions", body, key=key)
    assert (again.status_code, again.json()) == (422, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"

    def state(env):
        found = env["klodr.member"].browse(member["id"])
        return (found.points_version, env["klodr.transaction"].search_count([("order_ref", "=", body["order_ref"])]),
                env["klodr.api.idempotency"].sudo().search([("key", "=", key)]).status_code)
    # the member was locked (its version bumped) by the refused request: rolled back with it
    assert committed(state) == (version, 0, 422)


def test_one_order_ref_under_concurrent_keys_earns_once(client, world, committed):
    program = world["demo"]
    member = enroll(client, program)
    order_ref = f"race-{uuid.uuid4().hex}"
    barrier = threading.Barrier(3)
    results = []

    def send():
        barrier.wait()
        results.append(earn(client, program, member["code"], 2000, order_ref))  # a new Idempotency-Key each

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409, 409], [r.text for r in results]
    assert {error_code(r) for r in results if r.status_code == 409} == {"duplicate_order"}
    count = committed(lambda env: env["klodr.transaction"].search_count([("order_ref", "=", order_ref)]))
    assert count == 1
    assert client.get(f"/members/{member['code']}", program_id=program).json()["balance"] == 100 + 200


def test_requests_are_counted_even_when_refused(odoo_server, committed, world):
    def make(env):
        demo = env["klodr.program"].browse(world["demo"])
        key, token = env["klodr.api.key"]._generate("counted", demo.company_id)
        return key.id, token
    key_id, token = committed(make)
    counted = Client(odoo_server, token)
    assert counted.post("/transactions", {"program_id": world["demo"], "member": "nobody", "amount": 1,
                                          "order_ref": "x"}).status_code == 404
    assert counted.get("/programs").status_code == 200

    def usage(env):
        env.cr.execute("SELECT COALESCE(SUM(hits), 0) FROM klodr_api_rate WHERE key_id = %s", [key_id])
        return env.cr.fetchone()[0], bool(env["klodr.api.key"].browse(key_id).sudo().last_used_at)
    assert committed(usage) == (2, True)


def _sms_installed(env):
    return "klodr_member_id" in env["sms.sms"]._fields if "sms.sms" in env else False


def test_earn_notifications_are_sent_once_by_the_queue_cron(client, world, committed):
    """The "points earned" SMS is not rendered in the request: a queue row is written with the
    purchase, the cron is woken, and the cron's run queues the SMS once (two runs at once too)."""
    if not committed(_sms_installed):
        pytest.skip("loyalty_klodr_sms is not installed in the test database")
    program = world["demo"]
    enabled = committed(lambda env: env["klodr.program"].browse(program).sudo().read(
        ["sms_enabled", "sms_notify_earn_redeem"])[0])
    if not (enabled["sms_enabled"] and enabled["sms_notify_earn_redeem"]):
        pytest.skip("the demo program does not send earn SMS")
    member = enroll(client, program)
    answer = earn(client, program, member["code"], "1500.00").json()
    assert answer["points_earned"] == 150

    def state(env):
        env.cr.execute("SELECT event, payload->>'points', payload->>'balance' FROM klodr_notify_queue "
                       "WHERE member_id = %s ORDER BY id", [member["id"]])
        queued = env.cr.fetchall()
        cron = env.ref("loyalty_klodr.ir_cron_klodr_notify_queue")
        env.cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
        triggers = env.cr.fetchone()[0]
        sms = env["sms.sms"].sudo().search([("klodr_member_id", "=", member["id"]), ("klodr_event", "=", "earned")])
        return queued, sms.mapped("body"), triggers
    queued, bodies, triggers = committed(state)
    assert queued == [("earned", "150", "250")] and bodies == [] and triggers >= 1

    # Two runs of the cron's work at once: the rows are locked by the first, skipped by the second.
    outcomes = committed.in_threads([lambda env: env["klodr.notify.queue"]._process()] * 2, retry=True)
    assert [exc for _result, exc in outcomes] == [None, None]
    queued, bodies, _triggers = committed(state)
    assert queued == [] and len(bodies) == 1 and "150" in bodies[0] and "250" in bodies[0]
    committed(lambda env: env.ref("loyalty_klodr.ir_cron_klodr_notify_queue").sudo().method_direct_trigger())
    assert committed(state)[1] == bodies  # nothing twice


def test_earn_request_statements(world, committed):
    """What one POST /transactions costs in SQL on its own cursor, through Odoo's whole request
    path in this process (the key's usage statement runs on its own connection, not counted):
    the registry check, the member (with the record rules), the lock, the purchase (with the tier
    window's points), the entry with the balance and chain head, the breakdown, the Idempotency-Key
    claimed with the answer kept for replay. A change here should be deliberate."""
    from werkzeug.test import Client as WsgiClient  # noqa: PLC0415

    import odoo  # noqa: PLC0415
    from odoo.http import root  # noqa: PLC0415

    program = world["demo"]

    def setup(env):
        demo = env["klodr.program"].browse(program)
        Member = env["klodr.member"]
        mobiles = [Member._enroll(demo, {"name": f"Count {i}", "mobile": f"98{uuid.uuid4().int % 10**8:08d}"}).mobile
                   for i in range(6)]
        # What the other addons installed here add to an earn: the "points earned" SMS queued (the
        # program's SMS settings read, the notification queue's row); the open POS told (a query).
        extra = 0
        if "sms_notify_earn_redeem" in demo._fields and demo.sms_enabled and demo.sms_notify_earn_redeem:
            extra += 2
        if "pos.config" in env and "klodr_program_id" in env["pos.config"]._fields:
            extra += 1
        return mobiles, extra
    mobiles, extra = committed(setup)
    wsgi = WsgiClient(root)

    def post(mobile):
        ref = f"count-{uuid.uuid4().hex}"
        before = odoo.sql_db.sql_counter
        answer = wsgi.post(f"{contract.BASE}/transactions", json={
            "program_id": program, "member": mobile, "order_ref": ref, "amount": "1234.50"},
            headers={"Authorization": f"Bearer {world['token']}", "Idempotency-Key": ref},
            environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return odoo.sql_db.sql_counter - before

    for mobile in mobiles[:3]:  # warm the caches: routing, compiled rules, tier table
        post(mobile)
    assert [post(mobile) for mobile in mobiles[3:]] == [7 + extra] * 3
