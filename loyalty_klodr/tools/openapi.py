"""The OpenAPI 3.1 document of the REST API v1 (shared/API.md, controllers/api.py).

Pure Python (no Odoo): served as ``GET /api/loyalty/v1/openapi.json``, rendered as
the HTML reference ``GET /api/loyalty/v1/docs`` and checked by the tests against the
controller's routes and real responses. When the controller changes what it parses
or answers, change this document with it.

Request schemas say what a well-formed request is, as the controller parses it
(types, required fields, lengths, ranges); what only the database can tell (an
unknown store, a mobile number that is not a phone number, an ``occurred_at`` in the
future) is a ``400 validation_error`` named in the descriptions. Response objects
do not forbid extra properties: later versions may add fields.
"""
import copy
import functools
import re

BASE_PATH = "/api/loyalty/v1"
MAX_ID = 2**31 - 1
MAX_POINTS = 10**9
MAX_AMOUNT = 10**9

# Error codes by HTTP status (API.md, tools/api.py ``status_for`` and the models' refusals).
ERROR_CODES = {
    400: ["validation_error"],
    401: ["unauthorized"],
    404: ["not_found"],
    409: ["conflict", "duplicate_order", "idempotency_key_reused", "member_exists"],
    422: [
        "insufficient_points", "below_minimum_redemption", "exceeds_max_redemption", "tier_restricted",
        "out_of_stock", "reward_unavailable", "otp_invalid", "otp_expired", "otp_locked",
        "otp_unavailable", "redemption_not_pending", "member_inactive", "cap_reached",
        "code_invalid", "code_used", "code_expired",
    ],
    429: ["rate_limited"],
}
ELIGIBILITY_CODES = ["member_inactive", "reward_unavailable", "tier_restricted", "out_of_stock",
                     "below_minimum_redemption", "insufficient_points", "exceeds_max_redemption"]
ENTRY_TYPES = ["earn", "bonus", "redeem", "expire", "refund", "reversal", "adjust"]
REWARD_TYPES = ["discount_fixed", "discount_percent", "product", "free_product", "cashback", "voucher", "donation"]
REDEMPTION_STATES = ["pending_otp", "confirmed", "cancelled", "expired", "reversed"]

ERROR_DESCRIPTIONS = {
    400: "Validation error: the request is malformed. `details.field` names the field "
         "(`body` for the JSON itself, `Idempotency-Key` for the header).",
    401: "Missing, unknown or revoked API key.",
    404: "Not found, or not visible to this key (another company's or program's data: existence is never "
         "leaked).",
    409: "Conflict: `idempotency_key_reused` (the Idempotency-Key was used with another body), `conflict` "
         "(a request with this Idempotency-Key is still in progress, or a concurrent duplicate), or the "
         "operation's own code below.",
    422: "Business refusal: the request is well formed but cannot be carried out. `error.code` says why; "
         "`details` adds the numbers (`needed`, `spendable`, `minimum`, `reason`, ...).",
    429: "Too many requests: the key's rate limit per minute, or an OTP throttle. Wait `Retry-After` seconds.",
}

_NON_BLANK = r"^[^\u0000-\u001f]*[^\s\u0000-\u001f][^\u0000-\u001f]*$"
_EMPTY_OR_NON_BLANK = r"^(?:|[^\u0000-\u001f]*[^\s\u0000-\u001f][^\u0000-\u001f]*)$"
_PATH_SEGMENT = r"^[^/\u0000-\u001f]*[^/\s\u0000-\u001f][^/\u0000-\u001f]*$"
_AMOUNT_STRING = r"^(?:[0-9]{1,9}(?:\.[0-9]{1,4})?|1000000000(?:\.0{1,4})?)$"
# A mobile number as people write it: an optional + and (, then 7 to 15 digits (letters too: the numbering
# library reads vanity numbers, 1-800-FLOWERS), each followed by at most two spaces, dots, slashes, dashes or
# parentheses. Necessary for the common formats, not sufficient: the numbering plan decides (400). Bounded
# repetitions: a generator's strings mostly fit maxLength (an unbounded one made schemathesis give up).
# A request's day: YYYY-MM-DD of the years 1900 to 2999 (tools/api.parse_date).
_DAY = r"^(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"
_MOBILE = r"^\+?\(?(?:[0-9A-Za-z][ ()./-]{0,2}){7,15}$"

SANDBOX = {"program_id": 1, "member": "+919845012345", "member_code": "KL0000001", "store_ref": "BLR-IND",
           "reward_id": 1}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema):
    schema = copy.deepcopy(schema)
    if "$ref" in schema or "oneOf" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    schema["type"] = [schema["type"], "null"]
    return schema


def _text(maximum, description, example=None):
    schema = {"type": "string", "minLength": 1, "maxLength": maximum, "pattern": _NON_BLANK,
              "description": description}
    if example is not None:
        schema["examples"] = [example]
    return schema


def _amount(description, positive=False):
    number = {"type": "number", "maximum": MAX_AMOUNT}
    number["exclusiveMinimum" if positive else "minimum"] = 0
    return {
        "description": description + " A JSON number or a decimal string; at most 4 decimals; "
                       + ("more than 0" if positive else "0") + " to 1,000,000,000.",
        "oneOf": [number, {"type": "string", "pattern": _AMOUNT_STRING}],
        "examples": ["1499.00", 1499],
    }


def _object(properties, required=(), description=None, **extra):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


def _schemas():
    integer = {"type": "integer"}
    points = {"type": "integer", "description": "Points (whole numbers; a balance may be negative after a refund)."}
    money = _ref("Money")
    program_id = {"type": "integer", "minimum": 1, "maximum": MAX_ID,
                  "description": "The program (GET /programs). A string of digits is accepted too.",
                  "examples": [SANDBOX["program_id"]]}
    member = _text(32, "The member: a mobile number in any common local or international format (normalised "
                       "to E.164 with the company's country as default) or the member code.", SANDBOX["member"])
    store_ref = _nullable(_text(64, "The store's code (an unknown code is a 400 validation_error).",
                                SANDBOX["store_ref"]))
    occurred_at = _nullable({
        "type": "string", "format": "date-time",
        "description": "ISO 8601 date-time; without an offset it is UTC. Optional (default: now); not more "
                       "than 5 minutes in the future, not before 2000.",
        "examples": ["2026-11-25T10:30:00+05:30"]})
    return {
        "Money": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
                  "description": "A decimal string at the currency's precision.", "examples": ["1499.00"]},
        "Timestamp": {"type": "string", "format": "date-time",
                      "description": "ISO 8601 in UTC with its offset.", "examples": ["2026-11-25T05:00:00+00:00"]},
        "Error": _object({
            "error": _object({
                "code": {"type": "string", "description": "Machine-readable code: switch on it."},
                "message": {"type": "string", "description": "Human text (English); may change."},
                "details": _ref("ErrorDetails"),
            }, ["code", "message", "details"]),
        }, ["error"], "Every error answer."),
        "ErrorDetails": _object({
            "field": {"type": "string", "description": "400: the field in error (`lines[2].amount`, `body`, "
                                                       "`Idempotency-Key`...)."},
            "member": _ref("Member"),
            "attempts_left": {"type": "integer", "minimum": 0, "description": "otp_invalid, otp_locked."},
            "retry_after": {"type": "integer", "minimum": 1, "description": "rate_limited: seconds to wait."},
            "reason": {"type": "string", "description": "The precise situation when a code covers several "
                                                        "(`negative_balance`, `not_enough`, `limit_reached`, ...)."},
            "needed": integer, "spendable": integer, "minimum": integer, "balance": integer,
            "max_points": integer,
        }, description="Structured context; which keys appear depends on the code. `member_exists` carries the "
                       "existing `member`."),
        "Tier": _object({
            "code": {"type": ["string", "null"], "examples": ["silver"]},
            "name": {"type": "string", "examples": ["Silver"]},
        }, ["code", "name"]),
        "Program": _object({
            "id": integer, "name": {"type": "string"},
            "points_name": {"type": "string"}, "points_symbol": {"type": "string"},
            "point_value": dict(money, description="Money value of one point."),
            "min_redemption": {"type": "integer", "description": "Points a member needs to redeem."},
            "otp_required": {"type": "boolean"},
        }, ["id", "name", "points_name", "points_symbol", "point_value", "min_redemption", "otp_required"]),
        "Member": _object({
            "id": integer, "code": {"type": "string"}, "mobile": {"type": "string", "description": "E.164."},
            "name": {"type": "string"}, "program_id": integer,
            "tier": _nullable(_ref("Tier")),
            "balance": points,
            "held_points": {"type": "integer", "description": "Points held by pending redemptions."},
            "next_tier": {"anyOf": [_object({"name": {"type": "string"},
                                             "points_needed": {"type": "integer"}}, ["name", "points_needed"]),
                                    {"type": "null"}], "description": "null at the top tier."},
            "expiring": {"type": "array", "description": "Points expiring in the next 90 days, by date.",
                         "items": _object({"date": {"type": "string", "format": "date"}, "points": integer},
                                          ["date", "points"])},
            "referral_code": {"type": ["string", "null"]},
        }, ["id", "code", "mobile", "name", "program_id", "tier", "balance", "held_points", "next_tier",
            "expiring", "referral_code"]),
        "Transaction": _object({
            "transaction_id": integer, "order_ref": {"type": "string"},
            "points_earned": integer,
            "breakdown": {"type": "array", "items": _object({"rule": {"type": "string"}, "points": integer},
                                                            ["rule", "points"])},
            "balance": points, "tier": _nullable(_ref("Tier")),
        }, ["transaction_id", "order_ref", "points_earned", "breakdown", "balance", "tier"]),
        "Refund": _object({
            "refund_ref": {"type": "string"},
            "points_reversed": {"type": "integer", "description": "Earned points taken back."},
            "points_returned": {"type": "integer", "description": "Points redeemed on the order given back."},
            "balance": points,
        }, ["refund_ref", "points_reversed", "points_returned", "balance"]),
        "LedgerEntry": _object({
            "id": integer, "date": _ref("Timestamp"), "type": {"type": "string", "enum": ENTRY_TYPES},
            "points": {"type": "integer", "description": "Signed: credits positive, debits negative."},
            "balance_after": integer,
            "ref": {"type": ["string", "null"], "description": "Order, refund or event reference."},
            "store_ref": {"type": ["string", "null"]},
            "expires_on": {"type": ["string", "null"], "format": "date"},
        }, ["id", "date", "type", "points", "balance_after", "ref", "store_ref", "expires_on"]),
        "Ledger": _object({
            "opening_balance": integer, "closing_balance": integer,
            "entries": {"type": "array", "items": _ref("LedgerEntry")},
        }, ["opening_balance", "closing_balance", "entries"]),
        "Reward": _object({
            "id": integer, "name": {"type": "string"}, "type": {"type": "string", "enum": REWARD_TYPES},
            "points_cost": integer, "value": money, "min_tier": _nullable(_ref("Tier")),
            "stock_remaining": {"type": ["integer", "null"], "description": "null: unlimited."},
            "eligible": {"type": ["boolean", "null"], "description": "null when no `member` was given."},
            "reason": {"anyOf": [{"type": "string", "enum": ELIGIBILITY_CODES}, {"type": "null"}],
                       "description": "The error code a redemption would get, when not eligible."},
        }, ["id", "name", "type", "points_cost", "value", "min_tier", "stock_remaining", "eligible", "reason"]),
        "Redemption": _object({
            "redemption_id": integer, "status": {"type": "string", "enum": REDEMPTION_STATES},
            "points": integer, "discount_amount": money,
            "otp_expires_at": {"anyOf": [_ref("Timestamp"), {"type": "null"}],
                               "description": "When the code expires (status `pending_otp`), else null."},
        }, ["redemption_id", "status", "points", "discount_amount", "otp_expires_at"]),
        "Confirmation": _object({
            "redemption_id": integer, "status": {"const": "confirmed"}, "points_redeemed": integer,
            "discount_amount": money, "balance": points,
        }, ["redemption_id", "status", "points_redeemed", "discount_amount", "balance"]),
        "Cancellation": {"allOf": [_ref("Redemption"), _object({
            "balance": points,
            "points_returned": {**integer, "description": "Points given back by this cancel: 0 for a pending "
                                "redemption; for a confirmed one, its points less what refunds of its order "
                                "already gave back."},
        }, ["balance"])]},
        "EventResult": _object({"points_earned": integer, "balance": points}, ["points_earned", "balance"]),
        # Requests -------------------------------------------------------------------------
        "EnrollRequest": _object({
            "program_id": program_id,
            "mobile": dict(_text(32, "Mobile number in any common format: local (the company's country) or "
                                     "international (`+` or `00`), with spaces, dots, dashes or parentheses "
                                     "(letters of vanity numbers are read as their digits). "
                                     "A number the numbering plan does not know as a mobile number is 400 "
                                     "`validation_error` on `mobile`.", "+91 98450 55555"),
                           pattern=_MOBILE),
            "name": _text(128, "Full name.", "Priya Nair"),
            "email": _nullable(_text(254, "E-mail address.")),
            "birthday": _nullable({"type": "string", "format": "date", "pattern": _DAY,
                                   "description": "YYYY-MM-DD, years 1900 to 2999."}),
            "anniversary": _nullable({"type": "string", "format": "date", "pattern": _DAY,
                                      "description": "YYYY-MM-DD, years 1900 to 2999."}),
            "referral_code": _nullable(_text(32, "Another member's referral code (unknown: 400).")),
            "store_ref": store_ref,
        }, ["program_id", "mobile", "name"]),
        "TransactionLine": _object({
            "amount": _amount("Line amount."),
            "quantity": _amount("Quantity (default 1)."),
            "product_ref": _nullable(_text(64, "Product reference (for product rules).")),
            "category_ref": _nullable(_text(64, "Category reference (for category rules).")),
        }, ["amount"]),
        "TransactionRequest": _object({
            "program_id": program_id, "member": member,
            "order_ref": _text(128, "The order's reference, unique in the program.", "POS-1-000123"),
            "amount": _amount("Amount of the purchase."),
            "lines": _nullable({"type": "array", "maxItems": 500, "items": _ref("TransactionLine"),
                                "description": "The order's lines, for product and category rules."}),
            "promo_codes": _nullable({"type": "array", "maxItems": 500,
                                      "items": _text(64, "A campaign's promo code."),
                                      "description": "Promo codes of running campaigns (at most 64 characters "
                                                     "each)."}),
            "occurred_at": occurred_at, "store_ref": store_ref,
        }, ["program_id", "member", "order_ref", "amount"]),
        "RefundRequest": _object({
            "program_id": program_id,
            "refund_ref": _text(128, "The refund's reference: the same reference again replays the first refund; "
                                     "with another amount it is 409 idempotency_key_reused.", "POS-1-000123-R1"),
            "amount": _amount("Amount refunded, in the currency's precision; refunds of an order add up to at most "
                              "its amount (400 beyond).", positive=True),
        }, ["program_id", "refund_ref", "amount"]),
        "RedemptionRequest": _object({
            "program_id": program_id, "member": member,
            "reward_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID,
                          "description": "A reward (GET /rewards)."},
            "points": {"type": "integer", "minimum": 1, "maximum": MAX_POINTS,
                       "description": "Points as money off the order."},
            "order_ref": _text(128, "The order the points pay for.", "POS-1-000124"),
            "order_amount": _nullable(_amount("Amount of the order: at most the program's share of it may be paid "
                                              "with points.")),
            "store_ref": store_ref,
        }, ["program_id", "member", "order_ref"],
            "Exactly one of `reward_id` and `points`.",
            oneOf=[{"required": ["reward_id"]}, {"required": ["points"]}]),
        "ConfirmRequest": _object({
            "otp": {"description": "The code the member received (a string of at most 12 characters, or a number).",
                    "oneOf": [{"type": "string", "maxLength": 12},
                              {"type": "integer", "minimum": 0, "maximum": 999999999999}],
                    "examples": ["123456"]},
        }, ["otp"]),
        "EventRequest": _object({
            "program_id": program_id, "member": member,
            "event": _text(64, "The event (`checkin`, `review`, `social_share`, `birthday` or a custom name of "
                               "the program's event rules; case-insensitive). No rule for it: 400.", "checkin"),
            "ref": _text(128, "The event's reference: the same reference again gives nothing more.",
                         "checkin-2026-11-25-BLR-IND"),
            "occurred_at": occurred_at, "store_ref": store_ref,
        }, ["program_id", "member", "event", "ref"]),
    }


def _error_response(status, codes=None, replayable=False):
    codes = codes or ERROR_CODES[status]
    schema = {"allOf": [_ref("Error"), _object({"error": _object({"code": {"type": "string", "enum": codes}})})]}
    example = {"error": {"code": codes[0], "message": "...", "details": {}}}
    if status == 400:
        example["error"].update(message="amount must be a number or a decimal string", details={"field": "amount"})
    elif status == 429:
        example["error"].update(message="Too many requests for this key.", details={"retry_after": 30})
    response = {"description": ERROR_DESCRIPTIONS[status],
                "content": {"application/json": {"schema": schema, "example": example}}}
    headers = {}
    if status == 429:
        headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
    if replayable:
        headers["Idempotent-Replayed"] = {"$ref": "#/components/headers/Idempotent-Replayed"}
    if headers:
        response["headers"] = headers
    return response


def _operation(summary, description, success, success_schema, example=None, *, params=(), body=None,
               body_example=None, errors=(400, 404), idempotency=None, tag=None, extra_codes=None):
    """An authenticated operation; ``idempotency``: None (GET), "optional" or "required" (POSTs)."""
    replayable = idempotency is not None
    parameters = list(params)
    if idempotency:
        parameters.append({"$ref": f"#/components/parameters/IdempotencyKey{idempotency.capitalize()}"})
    content = {"schema": success_schema}
    if example is not None:
        content["example"] = example
    ok = {"description": "Success.", "content": {"application/json": content}}
    if replayable:
        ok["headers"] = {"Idempotent-Replayed": {"$ref": "#/components/headers/Idempotent-Replayed"}}
    responses = {str(success): ok}
    for status in sorted({401, 429, *errors} | ({400, 404, 409, 422} if replayable else set())):
        codes = (extra_codes or {}).get(status)
        responses[str(status)] = _error_response(status, codes, replayable and status != 401)
    op = {"summary": summary, "description": description, "tags": [tag] if tag else [],
          "parameters": parameters, "responses": responses}
    if body is not None:
        media = {"schema": body}
        if body_example is not None:
            media["example"] = body_example
        op["requestBody"] = {"required": True, "content": {"application/json": media}}
    if not parameters:
        del op["parameters"]
    return op


def _paths():
    program_query = {"$ref": "#/components/parameters/ProgramIdQuery"}
    member_path = {"$ref": "#/components/parameters/Member"}
    redemption_path = {"$ref": "#/components/parameters/RedemptionId"}
    sandbox_member = {"id": 1, "code": "KL0000001", "mobile": "+919845012345", "name": "Asha Rao",
                      "program_id": 1, "tier": {"code": "bronze", "name": "Bronze"}, "balance": 350,
                      "held_points": 0, "next_tier": {"name": "Silver", "points_needed": 650},
                      "expiring": [], "referral_code": "G33TST8Z"}
    pending = {"redemption_id": 7, "status": "pending_otp", "points": 200, "discount_amount": "50.00",
               "otp_expires_at": "2026-11-25T05:05:00+00:00"}
    empty_body = {"required": False, "content": {"application/json": {"schema": {
        "type": "object", "description": "No fields: send no body or `{}`."}}}}
    paths = {
        "/programs": {"get": _operation(
            "List programs", "The programs this API key may use, with their points and redemption settings.",
            200, {"type": "array", "items": _ref("Program")},
            [{"id": 1, "name": "Klodr Rewards", "points_name": "Points", "points_symbol": "pts",
              "point_value": "0.25", "min_redemption": 100, "otp_required": True}],
            errors=(), tag="Programs")},
        "/members": {"post": _operation(
            "Enroll a member",
            "Create a member of the program and give the welcome (and referral) bonus. A mobile number already "
            "enrolled in the program is 409 `member_exists` with the existing member in `details.member`.",
            201, _ref("Member"), sandbox_member, body=_ref("EnrollRequest"),
            body_example={"program_id": 1, "mobile": "+91 98450 55555", "name": "Priya Nair",
                          "email": "priya@example.com", "birthday": "1992-03-14", "store_ref": "BLR-IND"},
            idempotency="optional", tag="Members")},
        "/members/{member}": {"get": _operation(
            "Get a member",
            "The member's balance, held points, tier and next tier, points expiring in the next 90 days.",
            200, _ref("Member"), sandbox_member, params=[member_path, program_query], tag="Members")},
        "/members/{member}/ledger": {"get": _operation(
            "Member statement",
            "The member's ledger between two days (inclusive, in the program's timezone): opening and closing "
            "balances and each entry with the balance after it.",
            200, _ref("Ledger"),
            {"opening_balance": 0, "closing_balance": 350, "entries": [
                {"id": 1, "date": "2026-01-10T05:00:00+00:00", "type": "bonus", "points": 100, "balance_after": 100,
                 "ref": "member:1", "store_ref": "BLR-IND", "expires_on": "2027-01-10"}]},
            params=[member_path, program_query,
                    {"name": "from", "in": "query", "required": False,
                     "description": "First day (YYYY-MM-DD, years 1900 to 2999).",
                     "schema": {"type": "string", "format": "date", "pattern": _DAY}},
                    {"name": "to", "in": "query", "required": False,
                     "description": "Last day (YYYY-MM-DD), not before `from`.",
                     "schema": {"type": "string", "format": "date", "pattern": _DAY}}],
            tag="Members")},
        "/transactions": {"post": _operation(
            "Record a purchase",
            "Earn points for a purchase: base points multiplied by the tier in force before it, bonus bands, "
            "campaigns and promo codes; the points then count toward the next tier. An `order_ref` that already "
            "earned is 409 `duplicate_order`.",
            201, _ref("Transaction"),
            {"transaction_id": 42, "order_ref": "POS-1-000123", "points_earned": 149,
             "breakdown": [{"rule": "1 point per 10 spent", "points": 149}], "balance": 499,
             "tier": {"code": "bronze", "name": "Bronze"}},
            body=_ref("TransactionRequest"),
            body_example={"program_id": 1, "member": "+919845012345", "order_ref": "POS-1-000123",
                          "amount": "1499.00", "store_ref": "BLR-IND"},
            idempotency="required", tag="Transactions")},
        "/transactions/{order_ref}/refunds": {"post": _operation(
            "Refund a purchase",
            "Reverse the purchase's points in proportion to the amount refunded (partial refunds add up to exactly "
            "the points earned) and give back the points redeemed on the order in the same proportion. The balance "
            "may go negative; it then blocks redemptions.",
            201, _ref("Refund"),
            {"refund_ref": "POS-1-000123-R1", "points_reversed": 74, "points_returned": 0, "balance": 425},
            params=[{"$ref": "#/components/parameters/OrderRef"}], body=_ref("RefundRequest"),
            body_example={"program_id": 1, "refund_ref": "POS-1-000123-R1", "amount": "749.50"},
            idempotency="required", tag="Transactions")},
        "/rewards": {"get": _operation(
            "Rewards catalogue",
            "The program's rewards; with `member`, whether that member may redeem each one now and, if not, the "
            "error code a redemption would get.",
            200, {"type": "array", "items": _ref("Reward")},
            [{"id": 1, "name": "Discount 50", "type": "discount_fixed", "points_cost": 200, "value": "50.00",
              "min_tier": None, "stock_remaining": None, "eligible": True, "reason": None}],
            params=[program_query, {"name": "member", "in": "query", "required": False,
                                    "description": "A member (mobile or code): adds `eligible` and `reason`. "
                                                   "Empty: as if absent.",
                                    "schema": {"type": "string", "maxLength": 32, "pattern": _EMPTY_OR_NON_BLANK}}],
            tag="Rewards")},
        "/redemptions": {"post": _operation(
            "Start a redemption",
            "Spend points on a reward (`reward_id`) or as money off the order (`points`). When the program requires "
            "an OTP the status is `pending_otp`: the points are held (no other store can spend them) and a code is "
            "sent to the member; confirm it with POST /redemptions/{redemption_id}/confirm. Otherwise the "
            "redemption is `confirmed` at once.",
            201, _ref("Redemption"), pending, body=_ref("RedemptionRequest"),
            body_example={"program_id": 1, "member": "+919845012345", "reward_id": 1, "order_ref": "POS-1-000124",
                          "order_amount": "2000.00", "store_ref": "BLR-IND"},
            idempotency="required", tag="Redemptions")},
        "/redemptions/{redemption_id}/confirm": {"post": _operation(
            "Confirm with the OTP",
            "Check the code the member received and redeem. A wrong code is 422 `otp_invalid` with "
            "`details.attempts_left`; the last allowed wrong code is 422 `otp_locked` and releases the hold; an "
            "expired code is 422 `otp_expired`. These refusals count: they are not rolled back.",
            200, _ref("Confirmation"),
            {"redemption_id": 7, "status": "confirmed", "points_redeemed": 200, "discount_amount": "50.00",
             "balance": 150},
            params=[redemption_path], body=_ref("ConfirmRequest"), body_example={"otp": "123456"},
            idempotency="required", tag="Redemptions")},
        "/redemptions/{redemption_id}/resend-otp": {"post": _operation(
            "Send a new OTP",
            "A new code for a pending redemption; the old code is void. Throttled: 429 `rate_limited` with "
            "`Retry-After`. Not pending (or expired): 422 `redemption_not_pending`.",
            200, _ref("Redemption"), pending, params=[redemption_path],
            idempotency="optional", tag="Redemptions")},
        "/redemptions/{redemption_id}/cancel": {"post": _operation(
            "Cancel a redemption",
            "Pending: release the held points. Confirmed: give the points back (a `reversal` entry). Otherwise 422 "
            "`redemption_not_pending`.",
            200, _ref("Cancellation"),
            dict(pending, status="cancelled", otp_expires_at=None, balance=350, points_returned=0),
            params=[redemption_path],
            idempotency="required", tag="Redemptions")},
        "/events": {"post": _operation(
            "Record an event",
            "Points of the program's event rules (`checkin`, `review`, `social_share`, `birthday`, custom names), "
            "once per `ref`, within their caps: over a cap is 422 `cap_reached`.",
            201, _ref("EventResult"), {"points_earned": 20, "balance": 370}, body=_ref("EventRequest"),
            body_example={"program_id": 1, "member": "+919845012345", "event": "checkin",
                          "ref": "checkin-2026-11-25-BLR-IND", "store_ref": "BLR-IND"},
            idempotency="required", tag="Events")},
        "/openapi.json": {"get": {
            "summary": "This document", "description": "The OpenAPI 3.1 document of the API. No key needed.",
            "operationId": "openapi", "tags": ["Meta"], "security": [],
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    }
    for path in ("/redemptions/{redemption_id}/resend-otp", "/redemptions/{redemption_id}/cancel"):
        paths[path]["post"]["requestBody"] = copy.deepcopy(empty_body)
    operation_ids = {
        ("/programs", "get"): "listPrograms", ("/members", "post"): "enrollMember",
        ("/members/{member}", "get"): "getMember", ("/members/{member}/ledger", "get"): "getLedger",
        ("/transactions", "post"): "createTransaction",
        ("/transactions/{order_ref}/refunds", "post"): "refundTransaction",
        ("/rewards", "get"): "listRewards", ("/redemptions", "post"): "createRedemption",
        ("/redemptions/{redemption_id}/confirm", "post"): "confirmRedemption",
        ("/redemptions/{redemption_id}/resend-otp", "post"): "resendOtp",
        ("/redemptions/{redemption_id}/cancel", "post"): "cancelRedemption",
        ("/events", "post"): "recordEvent",
    }
    for (path, method), operation_id in operation_ids.items():
        paths[path][method]["operationId"] = operation_id
    # Operation-specific codes, named in the descriptions of their statuses.
    specific = {
        ("/members", "post"): {409: "`member_exists`: `details.member` is the existing member."},
        ("/transactions", "post"): {409: "`duplicate_order`: this `order_ref` already earned points.",
                                    422: "`member_inactive`."},
        ("/transactions/{order_ref}/refunds", "post"): {
            404: "No purchase with this `order_ref` in the program.",
            409: "`idempotency_key_reused`: this `refund_ref` was recorded for another amount or order."},
        ("/redemptions", "post"): {
            422: "`insufficient_points`, `below_minimum_redemption`, `exceeds_max_redemption`, `tier_restricted`, "
                 "`out_of_stock`, `reward_unavailable`, `member_inactive`, `otp_unavailable` (no channel can send "
                 "the code).",
            429: "An OTP throttle (codes per member or per phone per hour)."},
        ("/redemptions/{redemption_id}/confirm", "post"): {
            422: "`otp_invalid` (`details.attempts_left`), `otp_locked`, `otp_expired`, `redemption_not_pending`; "
                 "or a refusal of the redemption itself (`insufficient_points`, `out_of_stock`...)."},
        ("/redemptions/{redemption_id}/resend-otp", "post"): {
            422: "`redemption_not_pending`, `otp_unavailable`.",
            429: "Wait before asking again, or no more codes for this redemption."},
        ("/redemptions/{redemption_id}/cancel", "post"): {422: "`redemption_not_pending`."},
        ("/events", "post"): {422: "`cap_reached` (the event's rules already gave all they may), "
                                   "`member_inactive`."},
    }
    for (path, method), notes in specific.items():
        for status, note in notes.items():
            response = paths[path][method]["responses"][str(status)]
            response["description"] = f"{response['description']} Here: {note}"
    # What a client does next with an answer (OpenAPI links; fuzzers follow them too).
    links = {
        ("/members", "post", "201"): {
            "GetMember": ("getMember", "The new member.", {"member": "$response.body#/code",
                                                           "program_id": "$response.body#/program_id"}),
            "GetLedger": ("getLedger", "The new member's statement.", {
                "member": "$response.body#/code", "program_id": "$response.body#/program_id"}),
        },
        ("/transactions", "post", "201"): {
            "RefundTransaction": ("refundTransaction", "Refund this purchase.",
                                  {"order_ref": "$response.body#/order_ref"}),
        },
        ("/redemptions", "post", "201"): {
            "ConfirmRedemption": ("confirmRedemption", "Confirm with the OTP.",
                                  {"redemption_id": "$response.body#/redemption_id"}),
            "ResendOtp": ("resendOtp", "Send a new code.", {"redemption_id": "$response.body#/redemption_id"}),
            "CancelRedemption": ("cancelRedemption", "Cancel the redemption.",
                                 {"redemption_id": "$response.body#/redemption_id"}),
        },
    }
    for (path, method, status), named in links.items():
        paths[path][method]["responses"][status]["links"] = {
            name: {"operationId": operation_id, "description": description, "parameters": parameters}
            for name, (operation_id, description, parameters) in named.items()}
    return paths


def _info_description():
    return f"""\
The REST API of Klodr Loyalty, used by POS systems, e-commerce checkouts and mobile apps: enroll members, \
earn points on purchases and events, refund, browse rewards and redeem points with an OTP.

**Base path** `{BASE_PATH}`; JSON in and out (UTF-8, `Content-Type: application/json`, at most 64 KiB).

**Authentication**: `Authorization: Bearer <key>`. A key belongs to one company and may be limited to some \
programs; a Loyalty Manager creates it in the backend (Loyalty > Configuration > API Keys) or with \
`python -m odoo klodr -d DB apikey create --name NAME`; it is shown once. A missing, unknown or revoked key is \
401; another company's or program's data is 404.

**Idempotency**: every POST accepts an `Idempotency-Key` header (1 to 200 characters), required on the POSTs \
that move points (transactions, refunds, redemptions, confirm, cancel, events). The same key with the same body \
replays the first answer (same status and body) with `Idempotent-Replayed: true`; with another body it is 409 \
`idempotency_key_reused`. Keys are scoped to the company and kept at least 7 days.

**Conventions**: members are referred to by mobile number (any common format) or member code; money is a decimal \
string in responses and a number or a decimal string in requests; points are integers; times are ISO 8601, \
UTC with offset in responses. Errors are `{{"error": {{"code", "message", "details"}}}}`: 400 `validation_error` \
(`details.field`), 401 `unauthorized`, 404 `not_found`, 409 `conflict`/`duplicate_order`/\
`idempotency_key_reused`/`member_exists`, 422 business refusals, 429 `rate_limited` with `Retry-After`. \
A path of this document asked with a method it does not list is 405 `method_not_allowed` with an `Allow` \
header (and `details.allowed`); a path it does not have is 404 `not_found`. \
Response objects may gain fields in later versions: ignore what you do not know.

**What a schema cannot say.** Request schemas describe well-formed requests; some well-formed values are \
still refused with 400 `validation_error` naming the field, because only the server can tell: a `mobile` that \
matches the pattern but is not a mobile number of a real numbering plan (checked with the `phonenumbers` \
library, the company's country as default), a `store_ref` or `referral_code` that does not exist, an \
`occurred_at` more than 5 minutes in the future, an `event` no rule of the program handles, a ledger `from` \
after `to`, a refund beyond what is left of the purchase. A `member` that is neither an enrolled mobile number \
nor a member code is 404 `not_found`.

**Sandbox: the demo program.** A database installed with demo data has the program "Klodr Rewards" (id \
{SANDBOX['program_id']} in a fresh database; check GET /programs) on the main company, with demo members (Asha \
Rao, `{SANDBOX['member']}`, member code `{SANDBOX['member_code']}`) and stores (`BLR-IND`, `BLR-KOR`, `WEB`):
- earn 1 point per 10 currency units, rounded down, times the tier in force (Bronze ×1, Silver ×1.25, Gold ×1.5); \
bonus bands +100 (5,000–9,999.99) and +250 (10,000 and more);
- welcome bonus 100 points (+100 with a referral code; the referrer gets 200 on the first purchase);
- events `checkin` 20 points (once a day) and `review` 50 points (3 a month);
- tiers by points earned in 12 months: Bronze 0, Silver 1,000, Gold 5,000;
- 1 point = 0.25; at least 100 points to redeem; at most 50% of `order_amount` paid with points; lots expire \
after 12 months;
- OTP required: 6 digits, valid 5 minutes, 3 wrong attempts lock it. The demo SMS provider is `log`: codes are \
kept as `sms.sms` records in the database and nothing leaves the machine;
- rewards `Discount 50` (200 points), `Coffee Mug` (1,000 points, stock 10), `Gold Lounge Pass` (2,000 points, \
Gold only).

A human-readable reference of this document is served at `{BASE_PATH}/docs`."""


# What a path parameter of the document matches in a URL (the routes' converters).
_PARAMETER_PATTERNS = {"redemption_id": "[0-9]+"}
# Served beside the document's operations, without being operations of the API.
_EXTRA_PATHS = {"/docs": ("GET",)}


@functools.cache
def _path_methods():
    """``((compiled path pattern, methods), ...)`` of the document's paths (and ``_EXTRA_PATHS``)."""
    table = []
    paths = {path: tuple(method.upper() for method in item) for path, item in _paths().items()}
    for path, methods in {**paths, **_EXTRA_PATHS}.items():
        pattern = re.sub(r"\\\{([a-z_]+)\\\}", lambda m: f"(?:{_PARAMETER_PATTERNS.get(m.group(1), '[^/]+')})",
                         re.escape(path))
        table.append((re.compile(f"{pattern}/?"), tuple(sorted(methods))))
    return tuple(table)


def allowed_methods(path):
    """The methods the document declares for ``path`` (the part after the base path): empty when
    the path is not one of the API's. ``HEAD`` comes with ``GET``, as the routes answer it."""
    for pattern, methods in _path_methods():
        if pattern.fullmatch(path):
            return tuple(sorted(set(methods) | ({"HEAD"} if "GET" in methods else set())))
    return ()


def openapi_document():
    """The OpenAPI 3.1 document of the API, as a JSON-serialisable dict (a new copy each call)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Klodr Loyalty API",
            "version": "1",
            "summary": "Loyalty points for retail chains: members, earning, rewards and redemptions.",
            "description": _info_description(),
            "license": {"name": "LGPL-3.0", "identifier": "LGPL-3.0-only"},
        },
        "servers": [{"url": BASE_PATH, "description": "This Odoo server."}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": "Programs"}, {"name": "Members"}, {"name": "Transactions"}, {"name": "Rewards"},
            {"name": "Redemptions"}, {"name": "Events"}, {"name": "Meta"},
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "klk_<random>",
                "description": "An API key: `Authorization: Bearer klk_...`.",
            }},
            "parameters": {
                "IdempotencyKeyRequired": {
                    "name": "Idempotency-Key", "in": "header", "required": True,
                    "description": "Required: a new unique key per operation, such as a UUID "
                                   "(`3f1c8e9a-6c1b-4d7e-9a53-2f0b6c1d8e71`); a retry of the operation sends the "
                                   "same key again. The same key with the same body replays the first answer.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"}},
                "IdempotencyKeyOptional": {
                    "name": "Idempotency-Key", "in": "header", "required": False,
                    "description": "Optional: a new unique key per operation, such as a UUID "
                                   "(`3f1c8e9a-6c1b-4d7e-9a53-2f0b6c1d8e71`); a retry of the operation sends the "
                                   "same key again. The same key with the same body replays the first answer.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"}},
                "ProgramIdQuery": {
                    "name": "program_id", "in": "query", "required": True, "description": "The program.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "example": SANDBOX["program_id"]},
                "Member": {
                    "name": "member", "in": "path", "required": True,
                    "description": "Mobile number (any common format) or member code; at most 32 characters.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": _PATH_SEGMENT},
                    "example": SANDBOX["member"]},
                "OrderRef": {
                    "name": "order_ref", "in": "path", "required": True,
                    "description": "The purchase's `order_ref`.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": _PATH_SEGMENT},
                    "example": "POS-1-000123"},
                "RedemptionId": {
                    "name": "redemption_id", "in": "path", "required": True,
                    "description": "The `redemption_id` POST /redemptions answered.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "example": 7},
            },
            "headers": {
                "Idempotent-Replayed": {
                    "description": "`true` when this answer replays the first answer to the same Idempotency-Key.",
                    "schema": {"type": "string", "enum": ["true"]}},
                "Retry-After": {
                    "description": "Seconds to wait before trying again.", "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"}},
            },
            "schemas": _schemas(),
        },
    }
