"""The REST contract of ../shared/API.md, against a real Odoo server (2 workers, committed transactions)."""
import threading
import uuid

import pytest
import requests

from odoo import SUPERUSER_ID, api

BASE = "/api/loyalty/v1"


class Client:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, body=None, key="auto", headers=None):
        head = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if body is not None:
            head["Content-Type"] = "application/json"
        if method == "POST" and key:
            head["Idempotency-Key"] = uuid.uuid4().hex if key == "auto" else key
        head.update(headers or {})
        url = f"{self.base}{BASE}{path}"
        return requests.request(method, url, json=body, headers=head, timeout=60,
                                params=body if method == "GET" else None)

    def get(self, path, **params):
        return self.call("GET", path, params or None)

    def post(self, path, body, **kwargs):
        return self.call("POST", path, body, **kwargs)


def error_code(response):
    return response.json()["error"]["code"]


@pytest.fixture(scope="module")
def world(committed):
    """The demo program, a second program without OTP, keys of this company and of another."""
    def build(env):
        demo = env.ref("loyalty_klodr.klodr_program_demo", raise_if_not_found=False)
        if not demo:
            pytest.skip("the demo program is missing: the test database needs demo data")
        company = demo.company_id
        no_otp = env["klodr.program"].create({
            "name": f"No OTP {uuid.uuid4().hex[:6]}", "company_id": company.id, "otp_required": False,
            "country_id": env.ref("base.in").id, "min_redeem_balance": 100, "max_redeem_share": 50,
            "point_value": 0.25})
        env["klodr.earn.rule"].create({"program_id": no_otp.id, "name": "1 per 10", "kind": "amount",
                                       "points": 1, "spend_unit": 10})
        _key, token = env["klodr.api.key"]._generate("contract", company)
        other_company = env["res.company"].create({"name": f"Other {uuid.uuid4().hex[:6]}"})
        _key, other_token = env["klodr.api.key"]._generate("other", other_company)
        revoked, revoked_token = env["klodr.api.key"]._generate("revoked", company)
        revoked.sudo().write({"active": False})
        return {"demo": demo.id, "no_otp": no_otp.id, "token": token, "other": other_token,
                "revoked": revoked_token}
    return committed(build)


@pytest.fixture
def client(odoo_server, world):
    return Client(odoo_server, world["token"])


def mobile():
    return f"98{uuid.uuid4().int % 10**8:08d}"


def enroll(client, program, **extra):
    response = client.post("/members", dict({"program_id": program, "mobile": mobile(), "name": "Test"}, **extra))
    assert response.status_code == 201, response.text
    return response.json()


def earn(client, program, member, amount, order_ref=None, key="auto"):
    return client.post("/transactions", {"program_id": program, "member": member, "amount": amount,
                                         "order_ref": order_ref or uuid.uuid4().hex}, key=key)


def test_programs_and_auth(client, world, odoo_server):
    response = client.get("/programs")
    assert response.status_code == 200
    demo = next(p for p in response.json() if p["id"] == world["demo"])
    assert demo == {"id": world["demo"], "name": "Klodr Rewards", "points_name": "Points", "points_symbol": "pts",
                    "point_value": "0.25", "min_redemption": 100, "otp_required": True}
    for token in (None, "nonsense", "klk_" + "x" * 40, world["revoked"]):
        response = Client(odoo_server, token).get("/programs")
        assert response.status_code == 401 and error_code(response) == "unauthorized"


def test_enroll_earn_duplicate_and_demo_numbers(client, world):
    program = world["demo"]
    member = enroll(client, program)
    assert (member["balance"], member["tier"]["code"]) == (100, "bronze")  # welcome bonus
    assert member["mobile"].startswith("+91")
    again = client.post("/members", {"program_id": program, "mobile": member["mobile"], "name": "Again"})
    assert again.status_code == 409 and error_code(again) == "member_exists"
    assert again.json()["error"]["details"]["member"]["id"] == member["id"]
    run = uuid.uuid4().hex[:8]
    first = earn(client, program, member["code"], 9000, f"C-1-{run}")
    assert first.status_code == 201 and first.json()["points_earned"] == 900 + 100
    assert first.json()["tier"]["code"] == "silver"
    silver = earn(client, program, member["mobile"], "5000.00", f"C-2-{run}").json()
    assert silver["points_earned"] == 725  # floor(500 x 1.25) + 100
    assert silver["breakdown"] == [{"rule": "1 point per 10 spent", "points": 625},
                                   {"rule": "Big basket bonus", "points": 100}]
    duplicate = earn(client, program, member["code"], 5000, f"C-2-{run}")
    assert duplicate.status_code == 409 and error_code(duplicate) == "duplicate_order"
    fetched = client.get(f"/members/{member['code']}", program_id=program).json()
    assert fetched["balance"] == 100 + 1000 + 725
    assert fetched["next_tier"] == {"name": "Gold", "points_needed": 5000 - 1825}


def test_idempotent_replay_and_reuse(client, world):
    program = world["demo"]
    member = enroll(client, program)
    body = {"program_id": program, "member": member["code"], "amount": 1000, "order_ref": uuid.uuid4().hex}
    key = f"same-key-{uuid.uuid4().hex}"
    first = client.post("/transactions", body, key=key)
    replay = client.post("/transactions", body, key=key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
    reused = client.post("/transactions", dict(body, amount=1001), key=key)
    assert reused.status_code == 409 and error_code(reused) == "idempotency_key_reused"
    missing = client.post("/transactions", dict(body, order_ref="x"), key=None)
    assert missing.status_code == 400 and missing.json()["error"]["details"]["field"] == "Idempotency-Key"
    assert client.get(f"/members/{member['code']}", program_id=program).json()["balance"] == 200


def test_concurrent_requests_with_one_key_execute_once(client, world):
    program = world["demo"]
    member = enroll(client, program)
    body = {"program_id": program, "member": member["code"], "amount": 3000, "order_ref": uuid.uuid4().hex}
    results = []
    key = f"parallel-{uuid.uuid4().hex}"
    barrier = threading.Barrier(4)

    def send():
        barrier.wait()
        results.append(client.post("/transactions", body, key=key))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409}, [r.text for r in results]
    assert statuses.count(201) >= 1
    created = {r.json()["transaction_id"] for r in results if r.status_code == 201}
    assert len(created) == 1, "only one request executed; the others replayed it"
    assert client.get(f"/members/{member['code']}", program_id=program).json()["balance"] == 100 + 300


def test_concurrent_earns_of_one_member_all_succeed(client, world):
    """Earns racing on one member collide in the database and Odoo retries them: the retry must
    read the same body again (it was once read as empty: 400 'program_id is required')."""
    program = world["no_otp"]
    member = enroll(client, program)
    barrier = threading.Barrier(6)
    results = []

    def send():
        barrier.wait()
        results.append(earn(client, program, member["code"], 1000))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
    assert client.get(f"/members/{member['code']}", program_id=program).json()["balance"] == 6 * 100


def test_refund_half_then_the_rest(client, world):
    program = world["demo"]
    member = enroll(client, program)
    sale = earn(client, program, member["code"], 5000, "R-1-" + member["code"]).json()
    assert sale["points_earned"] == 600
    half = client.post(f"/transactions/R-1-{member['code']}/refunds",
                       {"program_id": program, "refund_ref": "h1-" + member["code"], "amount": 2500})
    rest = client.post(f"/transactions/R-1-{member['code']}/refunds",
                       {"program_id": program, "refund_ref": "h2-" + member["code"], "amount": "2500.00"})
    assert half.status_code == rest.status_code == 201
    assert half.json()["points_reversed"] + rest.json()["points_reversed"] == 600
    assert rest.json()["balance"] == 100
    too_much = client.post(f"/transactions/R-1-{member['code']}/refunds",
                           {"program_id": program, "refund_ref": "h3-" + member["code"], "amount": 1})
    assert too_much.status_code == 400
    unknown = client.post("/transactions/NOPE/refunds", {"program_id": program, "refund_ref": "x", "amount": 1})
    assert unknown.status_code == 404
    statement = client.get(f"/members/{member['code']}/ledger", program_id=program).json()
    assert statement["opening_balance"] == 0 and statement["closing_balance"] == 100
    running = 0
    for entry in statement["entries"]:
        running += entry["points"]
        assert entry["balance_after"] == running
    assert [e["type"] for e in statement["entries"]] == ["bonus", "earn", "bonus", "refund", "refund"]


def test_rewards_eligibility_explains_itself(client, world):
    program = world["demo"]
    member = enroll(client, program)
    rewards = {r["name"]: r for r in client.get("/rewards", program_id=program, member=member["code"]).json()}
    # 100 points: the minimum to redeem is met, the 200 the discount costs are not
    assert (rewards["Discount 50"]["eligible"], rewards["Discount 50"]["reason"]) == (False, "insufficient_points")
    earn(client, program, member["code"], 2000)
    rewards = {r["name"]: r for r in client.get("/rewards", program_id=program, member=member["code"]).json()}
    assert (rewards["Discount 50"]["eligible"], rewards["Discount 50"]["reason"]) == (True, None)
    assert rewards["Gold Lounge Pass"] == dict(rewards["Gold Lounge Pass"], eligible=False, reason="tier_restricted",
                                               points_cost=2000, min_tier={"code": "gold", "name": "Gold"})
    assert rewards["Coffee Mug"]["stock_remaining"] is not None


def test_redemption_without_otp_and_cancel(client, world):
    program = world["no_otp"]
    member = enroll(client, program)
    earn(client, program, member["code"], 4000)
    too_big = client.post("/redemptions", {"program_id": program, "member": member["code"], "points": 400,
                                            "order_ref": "O-1", "order_amount": 100})
    assert too_big.status_code == 422 and error_code(too_big) == "exceeds_max_redemption"
    both = client.post("/redemptions", {"program_id": program, "member": member["code"], "points": 100,
                                        "reward_id": 1, "order_ref": "O-1"})
    assert both.status_code == 400
    done = client.post("/redemptions", {"program_id": program, "member": member["code"], "points": 200,
                                        "order_ref": "O-1", "order_amount": 1000})
    assert done.status_code == 201, done.text
    assert done.json() == {"redemption_id": done.json()["redemption_id"], "status": "confirmed", "points": 200,
                           "discount_amount": "50.00", "otp_expires_at": None}
    cancel = client.post(f"/redemptions/{done.json()['redemption_id']}/cancel", {})
    assert cancel.status_code == 200 and cancel.json()["status"] == "reversed"
    assert cancel.json()["balance"] == 400
    again = client.post(f"/redemptions/{done.json()['redemption_id']}/cancel", {})
    assert again.status_code == 422 and error_code(again) == "redemption_not_pending"


def test_events_with_caps(client, world):
    program = world["demo"]
    member = enroll(client, program)
    first = client.post("/events", {"program_id": program, "member": member["code"], "event": "checkin",
                                    "ref": "d1"})
    assert first.status_code == 201 and first.json() == {"points_earned": 20, "balance": 120}
    capped = client.post("/events", {"program_id": program, "member": member["code"], "event": "checkin",
                                     "ref": "d2"})
    assert capped.status_code == 422 and error_code(capped) == "cap_reached"
    for number in range(3):
        assert client.post("/events", {"program_id": program, "member": member["code"], "event": "review",
                                       "ref": f"r{number}"}).status_code == 201
    assert error_code(client.post("/events", {"program_id": program, "member": member["code"],
                                              "event": "review", "ref": "r4"})) == "cap_reached"


def test_referral(client, world):
    program = world["demo"]
    referrer = enroll(client, program)
    referee = enroll(client, program, referral_code=referrer["referral_code"])
    assert referee["balance"] == 200
    earn(client, program, referee["code"], 100)
    assert client.get(f"/members/{referrer['code']}", program_id=program).json()["balance"] == 300
    bad = client.post("/members", {"program_id": program, "mobile": mobile(), "name": "X", "referral_code": "NOPE"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "referral_code"


def test_another_companys_key_sees_nothing(odoo_server, client, world):
    program = world["demo"]
    member = enroll(client, program)
    sale = earn(client, program, member["code"], 1000).json()
    other = Client(odoo_server, world["other"])
    assert all(p["id"] != program for p in other.get("/programs").json())
    checks = [
        other.get(f"/members/{member['code']}", program_id=program),
        other.get(f"/members/{member['code']}/ledger", program_id=program),
        other.get("/rewards", program_id=program),
        other.post("/members", {"program_id": program, "mobile": mobile(), "name": "X"}),
        earn(other, program, member["code"], 100),
        other.post("/transactions/x/refunds", {"program_id": program, "refund_ref": "x", "amount": 1}),
        other.post("/redemptions", {"program_id": program, "member": member["code"], "points": 100,
                                    "order_ref": "x"}),
        other.post("/redemptions/1/confirm", {"otp": "123456"}),
        other.post("/redemptions/1/cancel", {}),
        other.post("/events", {"program_id": program, "member": member["code"], "event": "checkin", "ref": "x"}),
    ]
    for response in checks:
        assert response.status_code == 404, response.text
        assert error_code(response) == "not_found"
        assert member["code"] not in response.text and str(sale["transaction_id"]) not in response.text
    assert client.get(f"/members/{member['code']}", program_id=program).json()["balance"] == 200


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/transactions", {"member": "x", "amount": 1, "order_ref": "a"}, "program_id"),
    ("/transactions", {"program_id": "abc", "member": "x", "amount": 1, "order_ref": "a"}, "program_id"),
    ("/transactions", {"program_id": "DEMO", "member": "MEMBER", "amount": -1, "order_ref": "a"}, "amount"),
    ("/transactions", {"program_id": "DEMO", "member": "MEMBER", "amount": "1e400", "order_ref": "a"}, "amount"),
    ("/transactions", {"program_id": "DEMO", "member": "MEMBER", "amount": 10**12, "order_ref": "a"}, "amount"),
    ("/transactions", {"program_id": "DEMO", "member": "MEMBER", "amount": 5, "order_ref": ""}, "order_ref"),
    ("/transactions", {"program_id": "DEMO", "member": "MEMBER", "amount": 5, "order_ref": "x" * 500},
     "order_ref"),
    ("/transactions", {"program_id": "DEMO", "member": "MEMBER", "amount": 5, "order_ref": "a",
                       "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
    ("/transactions", {"program_id": "DEMO", "member": "MEMBER", "amount": 5, "order_ref": "a",
                       "store_ref": "NO-SUCH-STORE"}, "store_ref"),
    ("/members", {"program_id": "DEMO", "mobile": "12345", "name": "X"}, "mobile"),
    ("/members", {"program_id": "DEMO", "mobile": "9845012399", "name": ""}, "name"),
    ("/members", {"program_id": "DEMO", "mobile": "9845012399", "name": "X", "birthday": "31-12-1990"},
     "birthday"),
    ("/redemptions", {"program_id": "DEMO", "member": "MEMBER", "points": 0, "order_ref": "a"}, "points"),
    ("/events", {"program_id": "DEMO", "member": "MEMBER", "event": "checkin"}, "ref"),
])
def test_bad_input_names_the_field_and_changes_nothing(client, world, path, body, field):
    member = enroll(client, world["demo"])
    body = {k: (world["demo"] if v == "DEMO" else member["code"] if v == "MEMBER" else v) for k, v in body.items()}
    response = client.post(path, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["field"] == field
    assert client.get(f"/members/{member['code']}", program_id=world["demo"]).json()["balance"] == 100


def test_malformed_requests(client, odoo_server, world):
    headers = {"Authorization": f"Bearer {world['token']}", "Idempotency-Key": uuid.uuid4().hex}
    url = f"{odoo_server}{BASE}/transactions"
    for data, content_type in (("{not json", "application/json"), ("[1, 2]", "application/json"),
                               ("amount=5", "application/x-www-form-urlencoded"),
                               ("x" * (70 * 1024), "application/json")):
        response = requests.post(url, data=data, headers=dict(headers, **{"Content-Type": content_type}),
                                 timeout=30)
        assert response.status_code == 400 and error_code(response) == "validation_error"
    unknown_member = client.get("/members/+919999999999", program_id=world["demo"])
    assert unknown_member.status_code == 404


def _sms_code(committed, mobile_number):
    def read(env):
        sms = env["sms.sms"].sudo().search([("number", "in", [mobile_number, mobile_number.lstrip("+")])],
                                           order="id desc", limit=1)
        return sms.body
    body = committed(read) or ""
    digits = [word for word in body.replace(".", " ").split() if word.isdigit() and len(word) == 6]
    return digits[0] if digits else None


def test_redemption_with_otp_read_from_the_sms_queue(client, world, committed):
    installed = committed(lambda env: bool(env["ir.module.module"].search_count(
        [("name", "=", "loyalty_klodr_sms"), ("state", "=", "installed")])))
    if not installed:
        pytest.skip("loyalty_klodr_sms is not installed: no channel delivers the OTP")
    program = world["demo"]
    member = enroll(client, program)
    earn(client, program, member["code"], 9000)
    started = client.post("/redemptions", {"program_id": program, "member": member["code"], "points": 300,
                                           "order_ref": "OTP-1", "order_amount": 2000})
    assert started.status_code == 201 and started.json()["status"] == "pending_otp", started.text
    assert client.get(f"/members/{member['code']}", program_id=program).json()["held_points"] == 300
    redemption = started.json()["redemption_id"]
    code = _sms_code(committed, member["mobile"])
    assert code
    wrong = "000000" if code != "000000" else "111111"
    first = client.post(f"/redemptions/{redemption}/confirm", {"otp": wrong})
    assert first.status_code == 422 and first.json()["error"]["details"]["attempts_left"] == 2
    resend = client.post(f"/redemptions/{redemption}/resend-otp", {})
    assert resend.status_code == 429 and int(resend.headers["Retry-After"]) > 0
    ok = client.post(f"/redemptions/{redemption}/confirm", {"otp": code})
    assert ok.status_code == 200, ok.text
    assert ok.json()["points_redeemed"] == 300 and ok.json()["discount_amount"] == "75.00"
    # a second redemption locked by wrong codes gives its points back
    locked = client.post("/redemptions", {"program_id": program, "member": member["code"], "points": 200,
                                          "order_ref": "OTP-2"}).json()["redemption_id"]
    for expected in ("otp_invalid", "otp_invalid", "otp_locked"):
        response = client.post(f"/redemptions/{locked}/confirm", {"otp": "999999" if code != "999999" else "0"})
        assert error_code(response) == expected
    assert client.get(f"/members/{member['code']}", program_id=program).json()["held_points"] == 0


def test_openapi_is_served(client, odoo_server):
    document = requests.get(f"{odoo_server}{BASE}/openapi.json", timeout=30).json()
    assert document["openapi"].startswith("3.1")
    assert "/transactions" in str(document["paths"])


def test_a_member_session_of_the_backend_is_unaffected(registry):
    # the API user has no password and cannot log in
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        user = env.ref("loyalty_klodr.user_klodr_api")
        assert not user.sudo().password
        assert user.has_group("loyalty_klodr.group_loyalty_user")
        assert not user.has_group("loyalty_klodr.group_loyalty_manager")


def test_rate_limit_per_key(odoo_server, committed, world):
    def make(env):
        demo = env["klodr.program"].browse(world["demo"])
        key, token = env["klodr.api.key"]._generate("limited", demo.company_id)
        key.sudo().rate_limit = 3
        return token
    limited = Client(odoo_server, committed(make))
    statuses = [limited.get("/programs").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:], statuses
    refused = limited.get("/programs")
    assert refused.status_code == 429 and error_code(refused) == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    # another key is not slowed down by this one
    assert Client(odoo_server, world["token"]).get("/programs").status_code == 200


@pytest.mark.parametrize(("method", "path", "params", "body"), [
    ("GET", "/members/KL0000001", {"program_id": "²"}, None),
    ("GET", "/members/KL0000001", {"program_id": "--5"}, None),
    ("GET", "/members/KL0000001/ledger", {"program_id": "DEMO", "from": "0001-01-01"}, None),
    ("POST", "/events", None, {"program_id": "DEMO", "member": "x", "event": "checkin", "ref": "r",
                               "occurred_at": "9999-12-31T23:59:59-12:00"}),
    ("POST", "/redemptions/null%2Cnull/cancel", None, {}),
    ("POST", "/nope", None, {}),
])
def test_hostile_input_gets_a_json_4xx(client, world, odoo_server, method, path, params, body):
    params = {k: (world["demo"] if v == "DEMO" else v) for k, v in (params or {}).items()}
    body = {k: (world["demo"] if v == "DEMO" else v) for k, v in body.items()} if body is not None else None
    headers = {"Authorization": f"Bearer {world['token']}", "Idempotency-Key": uuid.uuid4().hex}
    response = requests.request(method, f"{odoo_server}{BASE}{path}", params=params, json=body, timeout=30,
                                headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in ("validation_error", "not_found")


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/programs", "GET, HEAD"),
    ("DELETE", "/members/+919845012345", "GET, HEAD"),
    ("POST", "/members/KL0000001/ledger", "GET, HEAD"),
    ("GET", "/transactions", "POST"),
    ("PATCH", "/transactions/POS-1/refunds", "POST"),
    ("PUT", "/redemptions/7/confirm", "POST"),
    ("DELETE", "/redemptions/7", None),  # not a path of the API: 404
    ("GET", "/redemptions/abc/cancel", None),  # not an id: no such path either
    ("TRACE", "/events", "POST"),
    ("POST", "/openapi.json", "GET, HEAD"),
    ("GET", "/nope", None),
    ("POST", "/redemptions/%0AX/confirm", None),  # a newline in a segment: still the API's JSON 404
    ("PUT", "/members/a%0Ab", "GET, HEAD"),
])
@pytest.mark.parametrize("authorized", [True, False])
def test_undeclared_method_is_405_with_allow(world, odoo_server, method, path, allow, authorized):
    """A path of the OpenAPI document asked with a method it does not list: 405, the methods it
    does list in Allow, the contract's error shape; a path it does not have stays 404."""
    headers = {"Authorization": f"Bearer {world['token']}"} if authorized else {}
    response = requests.request(method, f"{odoo_server}{BASE}{path}", json={}, headers=headers, timeout=30)
    if allow is None:
        assert (response.status_code, error_code(response)) == (404, "not_found"), response.text
        assert "Allow" not in response.headers
        return
    assert response.status_code == 405, response.text
    assert response.headers["Allow"] == allow
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == {"code": "method_not_allowed", "message": response.json()["error"]["message"],
                                        "details": {"allowed": allow.split(", ")}}


def test_mobile_pattern_of_the_document(world, client):
    """What the document's pattern lets through and the server refuses is a 400 on `mobile`, as the
    document says; what it keeps out was refused anyway. Accepted formats are unchanged."""
    import re  # noqa: PLC0415

    pattern = requests.get(f"{client.base}{BASE}/openapi.json", timeout=30).json()[
        "components"]["schemas"]["EnrollRequest"]["properties"]["mobile"]["pattern"]
    program = world["demo"]
    number = f"{uuid.uuid4().int % 10**8:08d}"
    for text in (f"+91 98{number[:3]} {number[3:]}", f"0091-98{number}", f"(98{number[:3]}) {number[3:]}"):
        assert re.fullmatch(pattern, text), text
    accepted = client.post("/members", {"program_id": program, "mobile": f"+91 98{number[:3]} {number[3:]}",
                                        "name": "Pattern"})
    assert accepted.status_code == 201, accepted.text
    for text in ("1234567", "+00 000 0000"):  # well formed, not a mobile number
        assert re.fullmatch(pattern, text), text
        refused = client.post("/members", {"program_id": program, "mobile": text, "name": "Pattern"})
        assert refused.status_code == 400 and refused.json()["error"]["details"]["field"] == "mobile"
    for text in ("abc", "12345", "++98450 12345", "98450_12345"):
        assert not re.fullmatch(pattern, text), text
        refused = client.post("/members", {"program_id": program, "mobile": text, "name": "Pattern"})
        assert refused.status_code == 400, refused.text


def test_surrogates_and_deep_nesting_refused(client, world, odoo_server):
    headers = {"Authorization": f"Bearer {world['token']}", "Idempotency-Key": uuid.uuid4().hex,
               "Content-Type": "application/json"}
    for raw in ('{"x": "\\ud800"}', '{"program_id": 1, "name": "A\\ud800", "mobile": "9845012300"}',
                "[" * 30000, '{"a":' * 10000):
        response = requests.post(f"{odoo_server}{BASE}/members", data=raw, headers=headers, timeout=30)
        assert response.status_code == 400, response.text[:200]


def test_whole_number_floats_are_integers(client, world):
    member = enroll(client, world["demo"])
    response = client.post("/events", {"program_id": float(world["demo"]), "member": member["code"],
                                       "event": "checkin", "ref": "f"})
    assert response.status_code == 201, response.text


def test_a_throttled_answer_is_not_replayed(odoo_server, committed, world):
    def make(env):
        demo = env["klodr.program"].browse(world["demo"])
        key, token = env["klodr.api.key"]._generate("throttled", demo.company_id)
        key.sudo().rate_limit = 1
        return token
    throttled = Client(odoo_server, committed(make))
    throttled.get("/programs")
    body = {"program_id": world["demo"], "member": "x", "event": "checkin", "ref": "t"}
    key = f"retry-me-{uuid.uuid4().hex}"
    assert throttled.post("/events", body, key=key).status_code == 429
    stored = committed(lambda env: env["klodr.api.idempotency"].sudo().search_count([("key", "=", key)]))
    assert stored == 0
