"""Hostile input against a real Odoo server: every request of the table gets a 4xx JSON error
with a code (never a 5xx, never a stack trace), and nothing is written anywhere (members,
ledger, purchases, redemptions, idempotency records). Text that merely looks dangerous (SQL,
right-to-left marks, emoji) is stored verbatim where it is valid."""
import json
import uuid

import pytest
import requests

BASE = "/api/loyalty/v1"
COUNTED = ("klodr_member", "klodr_ledger_entry", "klodr_transaction", "klodr_transaction_refund",
           "klodr_redemption", "klodr_ledger_hold", "klodr_api_idempotency")


@pytest.fixture(scope="module")
def hostile_world(committed):
    def build(env):
        company = env.ref("base.main_company")
        program = env["klodr.program"].create({
            "name": f"Hostile {uuid.uuid4().hex[:6]}", "company_id": company.id, "otp_required": False,
            "country_id": env.ref("base.in").id, "point_value": 0.25})
        env["klodr.earn.rule"].create({"program_id": program.id, "name": "1 per 10", "kind": "amount",
                                       "points": 1, "spend_unit": 10})
        member = env["klodr.member"].create({"program_id": program.id, "name": "Target",
                                             "mobile": f"+9196{uuid.uuid4().int % 10**8:08d}"})
        env["klodr.ledger.entry"]._post(member, "earn", 500, source_ref="opening")
        _key, token = env["klodr.api.key"]._generate(f"hostile {program.id}", company, program)
        return {"program": program.id, "member": member.code, "token": token}
    return committed(build)


def counts(committed):
    def read(env):
        result = {}
        for table in COUNTED:
            env.cr.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed table names
            result[table] = env.cr.fetchone()[0]
        return result
    return committed(read)


def send(server, token, method, path, raw=b"", content_type="application/json", key=True):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    if key:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return requests.request(method, f"{server}{BASE}{path}", data=raw, headers=headers, timeout=60)


def J(value):  # noqa: N802 - reads as a JSON literal in the table
    return json.dumps(value).encode()


P, M = "PROGRAM", "MEMBER"  # replaced by the world's ids
HOSTILE = [
    # numbers
    ("POST", "/transactions", J({"program_id": P, "member": M, "order_ref": "h1", "amount": 1e308}), "amount"),
    ("POST", "/transactions", J({"program_id": P, "member": M, "order_ref": "h2", "amount": 10**40}), "amount"),
    ("POST", "/transactions", b'{"program_id": PROGRAM, "member": "MEMBER", "order_ref": "h3", "amount": NaN}', None),
    ("POST", "/transactions", b'{"program_id": PROGRAM, "member": "MEMBER", "order_ref": "h4", "amount": Infinity}',
     None),
    ("POST", "/transactions", J({"program_id": P, "member": M, "order_ref": "h5", "amount": "-0.01"}), "amount"),
    ("POST", "/transactions", J({"program_id": P, "member": M, "order_ref": "h6", "amount": "1,000"}), "amount"),
    ("POST", "/transactions", J({"program_id": P, "member": M, "order_ref": "h7", "amount": True}), "amount"),
    ("POST", "/transactions", J({"program_id": 2**70, "member": M, "order_ref": "h8", "amount": 5}), "program_id"),
    ("POST", "/redemptions", J({"program_id": P, "member": M, "points": 10**30, "order_ref": "h9"}), "points"),
    ("POST", "/redemptions", J({"program_id": P, "member": M, "points": -100, "order_ref": "h10"}), "points"),
    ("POST", "/redemptions", J({"program_id": P, "member": M, "points": 1.5, "order_ref": "h11"}), "points"),
    ("POST", "/transactions/h-none/refunds", J({"program_id": P, "refund_ref": "r", "amount": -5}), None),
    # text
    ("POST", "/members", J({"program_id": P, "mobile": "9845\u00000123", "name": "Nul"}), "mobile"),
    ("POST", "/members", J({"program_id": P, "mobile": "+91 98450 1" + "9" * 40, "name": "Long"}), "mobile"),
    ("POST", "/members", J({"program_id": P, "mobile": "'; DROP TABLE klodr_member; --", "name": "X"}), "mobile"),
    ("POST", "/members", J({"program_id": P, "mobile": "9845012345", "name": "a\u0000b"}), "name"),
    ("POST", "/members", J({"program_id": P, "mobile": "9845012345", "name": "x" * 100_000}), None),
    ("POST", "/transactions", J({"program_id": P, "member": M, "order_ref": "a\u0000b", "amount": 5}), "order_ref"),
    ("POST", "/transactions", J({"program_id": P, "member": "' OR 1=1 --", "order_ref": "h12", "amount": 5}),
     None),
    ("POST", "/events", J({"program_id": P, "member": M, "event": "checkin\u202e", "ref": "h13"}), None),
    # shapes and encodings
    ("POST", "/transactions", J([{"program_id": P}]), "body"),
    ("POST", "/transactions", J("just a string"), "body"),
    ("POST", "/transactions", b"{" * 5000 + b"}" * 5000, "body"),
    ("POST", "/transactions", b'{"program_id": PROGRAM, "member": "MEMBER", "order_ref": "h14", "amount": 5',
     "body"),
    ("POST", "/transactions", b"\xff\xfe\x00{}", "body"),
    ("POST", "/transactions", J({"program_id": P, "member": M, "order_ref": "h15", "amount": 5, "pad": "x" * 2**20}),
     "body"),
    ("POST", "/transactions", J({"program_id": P, "member": M, "order_ref": "h16", "amount": 5,
                                 "lines": [{"amount": 1}] * 100_000}), None),
    ("POST", "/transactions", J({"program_id": P, "member": {"$ne": None}, "order_ref": "h17", "amount": 5}),
     None),
]
CONTENT_TYPES = [("text/plain", "body"), ("application/x-www-form-urlencoded", "body"), ("application/xml", "body")]


def fill(raw, world):
    return raw.replace(b'"PROGRAM"', str(world["program"]).encode()).replace(
        b"PROGRAM", str(world["program"]).encode()).replace(b"MEMBER", world["member"].encode())


def assert_clear_4xx(response, field):
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert "Traceback" not in response.text and "psycopg2" not in response.text
    if field:
        assert error["details"].get("field") == field, error


@pytest.mark.parametrize(("method", "path", "raw", "field"), HOSTILE, ids=[f"{i}" for i in range(len(HOSTILE))])
def test_hostile_request_gets_a_4xx_and_writes_nothing(committed, odoo_server, hostile_world, method, path, raw,
                                                     field):
    before = counts(committed)
    response = send(odoo_server, hostile_world["token"], method, path, fill(raw, hostile_world))
    assert_clear_4xx(response, field)
    assert counts(committed) == before


@pytest.mark.parametrize(("content_type", "field"), CONTENT_TYPES)
def test_wrong_content_type(committed, odoo_server, hostile_world, content_type, field):
    before = counts(committed)
    body = fill(J({"program_id": P, "member": M, "order_ref": f"ct-{uuid.uuid4().hex}", "amount": 5}), hostile_world)
    response = send(odoo_server, hostile_world["token"], "POST", "/transactions", body, content_type=content_type)
    assert_clear_4xx(response, field)
    assert counts(committed) == before


def test_dangerous_looking_text_is_stored_verbatim(committed, odoo_server, hostile_world):
    """Valid input that looks like an attack is data: stored and returned unchanged, tables intact."""
    name = "Robert'); DROP TABLE klodr_member; -- \u202e \U0001f600 नमस्ते"
    order_ref = "O'1; SELECT pg_sleep(10); --"
    mobile = f"98{uuid.uuid4().int % 10**8:08d}"
    enrolled = send(odoo_server, hostile_world["token"], "POST", "/members",
                    J({"program_id": hostile_world["program"], "mobile": mobile, "name": name}))
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["name"] == name
    earned = send(odoo_server, hostile_world["token"], "POST", "/transactions",
                  J({"program_id": hostile_world["program"], "member": enrolled.json()["code"], "order_ref": order_ref,
                     "amount": 100}))
    assert earned.status_code == 201 and earned.json()["order_ref"] == order_ref, earned.text
    stored = committed(lambda env: env["klodr.member"].search([("code", "=", enrolled.json()["code"])]).name)
    assert stored == name
    # a number typed in Devanagari digits is a number
    digits = f"{uuid.uuid4().int % 10**8:08d}"
    devanagari = "९८" + digits.translate(str.maketrans("0123456789", "०१२३४५६७८९"))
    typed = send(odoo_server, hostile_world["token"], "POST", "/members",
                 J({"program_id": hostile_world["program"], "mobile": devanagari, "name": "Devanagari"}))
    assert typed.status_code == 201 and typed.json()["mobile"] == f"+9198{digits}", typed.text
