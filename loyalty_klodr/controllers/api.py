"""REST API v1 (../shared/API.md): parse, authenticate, call the models, translate errors.

Each request runs as the key's API user (Loyalty User rights) in the key's company.
A POST carrying an Idempotency-Key claims the key in the same transaction as its
work: a repeat replays the first answer, a repeat with another body gets 409, and
concurrent repeats wait for the first and then replay.
"""
import functools
import inspect
import json
import logging

import psycopg2

from odoo import fields, http
from odoo.exceptions import AccessError, ConcurrencyError, MissingError, UserError, ValidationError
from odoo.http import request

from ..exceptions import LoyaltyError
from ..tools import api as contract

_logger = logging.getLogger(__name__)
BASE = "/api/loyalty/v1"
MAX_BODY = 64 * 1024


class ApiError(Exception):
    def __init__(self, code, message, status=None, headers=None, **details):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details
        self.status = status or contract.status_for(code)
        self.headers = headers or {}


def _json(status, body, headers=None):
    return request.make_json_response(body, headers=list((headers or {}).items()), status=status)


def _error_response(error):
    return _json(error.status, contract.error_body(error.code, error.message, **error.details), error.headers)


def endpoint(route, methods, moves_points=False):
    """Route an API handler: ``handler(self, ctx, body, **route_args) -> (status, json)``.

    Query parameters are read from the request, not passed as arguments: only the
    URL's own arguments reach the handler.
    """
    def decorator(handler):
        route_args = list(inspect.signature(handler).parameters)[3:]

        def wrapper(self, **kwargs):
            try:
                return self._dispatch(handler, {name: kwargs[name] for name in route_args}, moves_points)
            except ApiError as error:
                return _error_response(error)
        wrapper.__name__ = wrapper.__qualname__ = handler.__name__
        wrapper.__doc__ = handler.__doc__
        return http.route(f"{BASE}{route}", type="http", auth="none", methods=methods, csrf=False,
                          # read/write even for GETs: usage and rate counters are written
                          save_session=False, readonly=False)(wrapper)
    return decorator


class LoyaltyApi(http.Controller):
    # ------------------------------------------------------------------
    # Plumbing
    # ------------------------------------------------------------------
    def _authenticate(self):
        """The key's context and the environment the request runs in (the key's API user, in the
        key's company). Authentication, rate counting and last use take one statement
        (``klodr.api.key._request_context``), committed apart from the request's transaction."""
        header = request.httprequest.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        key = request.env["klodr.api.key"]._request_context(token.strip()) if scheme.lower() == "bearer" else None
        if not key:
            raise ApiError("unauthorized", "A valid API key is required (Authorization: Bearer <key>).")
        if key.retry_after:
            raise ApiError("rate_limited", "Too many requests for this key.",
                           headers={"Retry-After": str(key.retry_after)}, retry_after=key.retry_after)
        user_env = request.env(user=key.user_id, su=False, context={
            "allowed_company_ids": [key.company_id], "lang": "en_US", "tz": "UTC"})
        return key, user_env

    def _body(self):
        if (request.httprequest.content_length or 0) > MAX_BODY:
            raise ApiError("validation_error", "The request body is too large.", field="body")
        # A form or another type is refused before reading: werkzeug would have parsed a form
        # and left an empty body behind.
        mimetype = request.httprequest.mimetype or ""
        if mimetype and not mimetype.endswith("json"):
            raise ApiError("validation_error", "Send JSON with Content-Type: application/json.", field="body")
        # cached: when Odoo retries the request after a serialization failure, the body is read again
        raw = request.httprequest.get_data()
        if len(raw) > MAX_BODY:
            raise ApiError("validation_error", "The request body is too large.", field="body")
        if not raw.strip():
            return {}
        if not mimetype:
            raise ApiError("validation_error", "Send JSON with Content-Type: application/json.", field="body")
        try:
            body = json.loads(raw)
            # Lone surrogates ("\ud800") parse but cannot be stored or hashed: refuse them here.
            json.dumps(body, ensure_ascii=False).encode()
        except (ValueError, UnicodeError, RecursionError) as exc:
            raise ApiError("validation_error", "The body is not valid UTF-8 JSON.", field="body") from exc
        if not isinstance(body, dict):
            raise ApiError("validation_error", "The body must be a JSON object.", field="body")
        return body

    def _dispatch(self, handler, route_args, moves_points):
        key, env = self._authenticate()
        method = request.httprequest.method
        body = self._body() if method == "POST" else dict(request.httprequest.args)
        ctx = ApiContext(key, env)
        if method != "POST":
            return self._run(handler, ctx, body, route_args)[0]
        idem_key = request.httprequest.headers.get("Idempotency-Key")
        if idem_key is None:
            if moves_points:
                raise ApiError("validation_error", "This request needs an Idempotency-Key header.",
                               field="Idempotency-Key")
            return self._run(handler, ctx, body, route_args)[0]
        if not idem_key.strip() or len(idem_key) > 200:
            raise ApiError("validation_error", "The Idempotency-Key is 1 to 200 characters.", field="Idempotency-Key")
        print_ = contract.fingerprint(method, request.httprequest.path, body)
        Idempotency = env["klodr.api.idempotency"]
        # The key is claimed with the answer, at the end of the request's transaction (one statement):
        # a repeat that ran meanwhile finds it taken (or, while the first is uncommitted, waits on the
        # unique index, then fails to serialize and is retried by Odoo), undoes its own work and
        # replays the first answer. Only one of them can commit its work.
        response, refused = self._run(handler, ctx, body, route_args)
        # "Try again later" answers (409, 429) are not the outcome of the request: a retry with the
        # same key after Retry-After must run, not replay them. A malformed request (400) or one
        # naming what does not exist (404) that was refused never started: the key can carry the
        # corrected request. Neither is kept; a repeat of an earlier answer still replays it.
        status = response.status_code
        if status in (409, 429) or (refused and status in (400, 404)):
            held = Idempotency._held(key.company_id, idem_key)
        else:
            _record_id, held = Idempotency._claim(key.company_id, idem_key, key.id, print_, status,
                                                  response.get_data(as_text=True))
        if held:
            if not refused:
                ctx.env.cr.rollback()  # the key was taken first: this request's work must not stay
            return self._replay(held, print_)
        return response

    @staticmethod
    def _replay(held, fingerprint):
        """The answer to a repeat of an Idempotency-Key: ``held`` is (fingerprint, status, body) of its record."""
        held_print, status_code, response_body = held
        if held_print != fingerprint:
            raise ApiError("idempotency_key_reused", "This Idempotency-Key was used for another request.")
        if status_code:
            response = _json(status_code, json.loads(response_body))
            response.headers["Idempotent-Replayed"] = "true"
            return response
        raise ApiError("conflict", "A request with this Idempotency-Key is still in progress.")

    def _run(self, handler, ctx, body, route_args):
        """``(response, refused)``: a refusal (an error answer raised by the handler or the models)
        rolls the request's transaction back, so that it leaves nothing behind."""
        try:
            status, payload = handler(self, ctx, body, **route_args)
            return _json(status, payload), False
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected, ConcurrencyError,
                psycopg2.errors.LockNotAvailable):
            raise  # Odoo retries the whole request
        except Exception as exc:
            error = self._api_error(exc)
            if error is None:
                raise  # a 5xx: Odoo rolls back
            ctx.env.cr.rollback()
            return _error_response(error), True

    @staticmethod
    def _api_error(exc):
        """The API error answering ``exc``, or None for an unexpected one."""
        if isinstance(exc, ApiError):
            return exc
        if isinstance(exc, contract.FieldError):
            return ApiError("validation_error", str(exc), field=exc.field)
        if isinstance(exc, LoyaltyError):
            details = {k: v for k, v in exc.details.items() if isinstance(v, (str, int, float, bool, type(None)))}
            headers = {"Retry-After": str(details["retry_after"])} if exc.code == "rate_limited" else None
            return ApiError(exc.code, str(exc.args[0]), headers=headers, **details)
        if isinstance(exc, (AccessError, MissingError)):
            return ApiError("not_found", "Not found.")
        if isinstance(exc, (ValidationError, UserError)):
            return ApiError("validation_error", str(exc.args[0]))
        if isinstance(exc, psycopg2.errors.UniqueViolation):
            return ApiError("conflict", "This conflicts with an existing record.")
        return None

    # ------------------------------------------------------------------
    # Endpoints
    # ------------------------------------------------------------------

    @http.route(f"{BASE}/openapi.json", type="http", auth="none", methods=["GET"], csrf=False,
                save_session=False)
    def openapi(self):
        from ..tools.openapi import openapi_document  # noqa: PLC0415

        return _json(200, openapi_document())

    @endpoint("/programs", ["GET"])
    def programs(self, ctx, query):
        return 200, [ctx.program_json(p) for p in ctx.programs()]

    @endpoint("/members", ["POST"])
    def enroll(self, ctx, body):
        program = ctx.program(contract.require(body, "program_id"))
        vals = {"name": contract.parse_text(contract.require(body, "name"), "name"),
                "mobile": contract.parse_text(contract.require(body, "mobile"), "mobile", maximum=32)}
        if body.get("email") is not None:
            vals["email"] = contract.parse_text(body["email"], "email", maximum=254)
        for field in ("birthday", "anniversary"):
            if body.get(field) is not None:
                vals[field] = contract.parse_date(body[field], field)
        referral = contract.parse_text(body.get("referral_code"), "referral_code", maximum=32, required=False)
        store = ctx.store(body.get("store_ref"))
        try:
            member = ctx.env["klodr.member"]._enroll(program, vals, referral_code=referral, store=store)
        except LoyaltyError as error:
            if error.code == "member_exists":
                existing = ctx.env["klodr.member"].browse(error.details["member_id"])
                raise ApiError("member_exists", str(error.args[0]), member=ctx.member_json(existing)) from error
            raise
        except ValidationError as error:
            raise ApiError("validation_error", str(error.args[0]), field="mobile") from error
        return 201, ctx.member_json(member)

    @endpoint("/members/<string:member>", ["GET"])
    def member(self, ctx, query, member):
        program = ctx.program(contract.require(query, "program_id"))
        return 200, ctx.member_json(ctx.member(program, member))

    @endpoint("/transactions", ["POST"], moves_points=True)
    def transaction(self, ctx, body):
        program = ctx.program(contract.require(body, "program_id"))
        member = ctx.member(program, contract.require(body, "member"))
        order_ref = contract.parse_text(contract.require(body, "order_ref"), "order_ref")
        amount = contract.parse_amount(contract.require(body, "amount"), "amount")
        when = contract.parse_datetime(body.get("occurred_at"), "occurred_at", fields.Datetime.now())
        lines = ctx.lines(body.get("lines"))
        txn = member._earn_order(amount, order_ref=order_ref, lines=lines, when=when,
                                 store=ctx.store(body.get("store_ref")),
                                 promo_codes=[contract.parse_text(c, "promo_codes", maximum=64)
                                              for c in ctx.list(body.get("promo_codes"), "promo_codes")])
        tier = program._tier_table()["by_id"].get(member.tier_id.id)  # cached: no read of the tier
        return 201, {
            "transaction_id": txn.id, "order_ref": txn.order_ref, "points_earned": txn.points_earned,
            "breakdown": [{"rule": a.label, "points": a.points} for a in txn.award_ids.sudo()],
            "balance": member.balance, "tier": {"code": tier["code"], "name": tier["name"]} if tier else None,
        }

    @endpoint("/transactions/<string:order_ref>/refunds", ["POST"], moves_points=True)
    def refund(self, ctx, body, order_ref):
        program = ctx.program(contract.require(body, "program_id"))
        txn = ctx.env["klodr.transaction"].search(
            [("program_id", "=", program.id), ("order_ref", "=", order_ref)], limit=1)
        if not txn:
            raise ApiError("not_found", f"No transaction {order_ref}.")
        refund = txn._refund(contract.parse_text(contract.require(body, "refund_ref"), "refund_ref"),
                             contract.parse_amount(contract.require(body, "amount"), "amount", allow_zero=False))
        return 201, {"refund_ref": refund.refund_ref, "points_reversed": refund.points_reversed,
                     "points_returned": refund.points_returned, "balance": txn.member_id.balance}

    @endpoint("/members/<string:member>/ledger", ["GET"])
    def ledger(self, ctx, query, member):
        program = ctx.program(contract.require(query, "program_id"))
        member = ctx.member(program, member)
        start = contract.parse_date(query.get("from"), "from")
        end = contract.parse_date(query.get("to"), "to")
        if start and end and start > end:
            raise contract.FieldError("from", "from is after to")
        statement = member._statement(start, end)
        return 200, {
            "opening_balance": statement["opening_balance"], "closing_balance": statement["closing_balance"],
            "entries": [{"id": e.id, "date": contract.timestamp(e.date), "type": e.entry_type, "points": e.points,
                         "balance_after": e.balance_after, "ref": e.source_ref or None,
                         "store_ref": e.store_id.code or None,
                         "expires_on": e.expiry_date.isoformat() if e.expiry_date else None}
                        for e in statement["entries"]],
        }

    @endpoint("/rewards", ["GET"])
    def rewards(self, ctx, query):
        program = ctx.program(contract.require(query, "program_id"))
        member = ctx.member(program, query["member"]) if query.get("member") else None
        rewards = ctx.env["klodr.reward"].search([("program_id", "=", program.id)])
        eligibility = rewards._eligibility_by_reward(member) if member else {}
        result = []
        for reward in rewards:
            eligible, reason = eligibility.get(reward.id, (None, None))
            result.append({
                "id": reward.id, "name": reward.name, "type": reward.reward_type, "points_cost": reward.points_cost,
                "value": contract.money(reward.value, ctx.digits), "min_tier": ctx.tier_json(reward.min_tier_id),
                "stock_remaining": None if reward.stock_remaining < 0 else reward.stock_remaining,
                "eligible": eligible, "reason": str(reason) if reason else None,
            })
        return 200, result

    @endpoint("/redemptions", ["POST"], moves_points=True)
    def redeem(self, ctx, body):
        program = ctx.program(contract.require(body, "program_id"))
        member = ctx.member(program, contract.require(body, "member"))
        if ("reward_id" in body) == ("points" in body):
            raise contract.FieldError("reward_id", "give exactly one of reward_id and points")
        reward = None
        if "reward_id" in body:
            reward = ctx.env["klodr.reward"].search([
                ("id", "=", contract.parse_int(body["reward_id"], "reward_id", 1, 2**31 - 1)),
                ("program_id", "=", program.id)], limit=1)
            if not reward:
                raise ApiError("reward_unavailable", "Unknown reward.", reason="unknown")
        points = contract.parse_int(body["points"], "points", 1, 10**9) if "points" in body else None
        amount = body.get("order_amount")
        redemption = ctx.env["klodr.redemption"]._start(
            member, reward=reward, points=points,
            order_ref=contract.parse_text(contract.require(body, "order_ref"), "order_ref"),
            order_amount=None if amount is None else contract.parse_amount(amount, "order_amount"),
            store=ctx.store(body.get("store_ref")))
        return 201, ctx.redemption_json(redemption)

    @endpoint("/redemptions/<int:redemption_id>/confirm", ["POST"], moves_points=True)
    def confirm(self, ctx, body, redemption_id):
        redemption = ctx.redemption(redemption_id)
        otp = body.get("otp")
        if isinstance(otp, float) and otp.is_integer() and abs(otp) < 10**12:
            otp = int(otp)
        if not isinstance(otp, (str, int)) or isinstance(otp, bool) or len(str(otp)) > 12:
            raise contract.FieldError("otp", "otp is the code the member received")
        result = redemption._confirm(str(otp))
        if result.get("error"):
            details = {k: v for k, v in result.items() if k not in ("error", "status")}
            messages = {"otp_invalid": "Wrong code.",
                        "otp_locked": "Too many wrong codes: the redemption is cancelled.",
                        "otp_expired": "The code expired.",
                        "redemption_not_pending": "The redemption is not pending."}
            # The attempt must count: this answer commits, it does not roll back.
            return contract.status_for(result["error"]), contract.error_body(
                result["error"], messages.get(result["error"], result["error"]), **details)
        return 200, {"redemption_id": redemption.id, "status": "confirmed",
                     "points_redeemed": result["points_redeemed"],
                     "discount_amount": contract.money(result["discount_amount"], ctx.digits),
                     "balance": result["balance"]}

    @endpoint("/redemptions/<int:redemption_id>/resend-otp", ["POST"])
    def resend(self, ctx, body, redemption_id):
        redemption = ctx.redemption(redemption_id)._resend()
        return 200, ctx.redemption_json(redemption)

    @endpoint("/redemptions/<int:redemption_id>/cancel", ["POST"], moves_points=True)
    def cancel(self, ctx, body, redemption_id):
        redemption = ctx.redemption(redemption_id)._cancel()
        given_back = redemption.reversal_entry_id.points if redemption.state == "reversed" else 0
        return 200, dict(ctx.redemption_json(redemption), balance=redemption.member_id.balance,
                         points_returned=given_back)

    @endpoint("/events", ["POST"], moves_points=True)
    def event(self, ctx, body):
        program = ctx.program(contract.require(body, "program_id"))
        member = ctx.member(program, contract.require(body, "member"))
        name = contract.parse_text(contract.require(body, "event"), "event", maximum=64).lower()
        entries = member._earn_event(
            name, ref=contract.parse_text(contract.require(body, "ref"), "ref"),
            when=contract.parse_datetime(body.get("occurred_at"), "occurred_at", fields.Datetime.now()),
            store=ctx.store(body.get("store_ref")))
        return 201, {"points_earned": sum(entries.mapped("points")), "balance": member.balance}


class LoyaltyApiFallback(http.Controller):
    # werkzeug's `path` converter stops at a newline: segments of `string` ([^/]+) catch those paths
    # too (the API's paths have at most three segments), so that they also get a JSON answer.
    @http.route([BASE, f"{BASE}/<path:rest>", f"{BASE}/<string:s1>", f"{BASE}/<string:s1>/<string:s2>",
                 f"{BASE}/<string:s1>/<string:s2>/<string:s3>",
                 f"{BASE}/<string:s1>/<string:s2>/<string:s3>/<path:s4>"],
                type="http", auth="none", csrf=False, save_session=False, readonly=True)
    def unknown(self, rest=None, s1=None, s2=None, s3=None, s4=None, **kwargs):
        """Anything else under the base path, as JSON (never Odoo's HTML page): 405 with ``Allow``
        for a path of the API asked with a method the OpenAPI document does not list for it,
        else 404."""
        from ..tools.openapi import allowed_methods  # noqa: PLC0415

        rest = rest or "/".join(segment for segment in (s1, s2, s3, s4) if segment is not None)
        methods = allowed_methods(f"/{rest}" if rest else "/")
        if methods and request.httprequest.method not in methods:
            return _error_response(ApiError(
                "method_not_allowed", f"{request.httprequest.method} is not allowed here: {', '.join(methods)}.",
                headers={"Allow": ", ".join(methods)}, allowed=list(methods)))
        return _error_response(ApiError("not_found", "No such endpoint."))


class ApiContext:
    """What a request may touch: the key's company and programs, found without leaking others."""

    def __init__(self, key, env):
        self.key = key  # a klodr.api.key KeyContext: ids only, read when the request was counted
        self.env = env

    @functools.cached_property
    def digits(self):
        """Decimal places of the company's currency (read only by answers with money in them)."""
        return self.env["res.company"].browse(self.key.company_id).currency_id.decimal_places

    def program(self, value):
        program_id = contract.parse_int(value, "program_id", 1, 2**31 - 1)
        if program_id not in self.key.program_ids:
            raise ApiError("not_found", "Unknown program.")
        return self.env["klodr.program"].browse(program_id)

    def programs(self):
        return self.env["klodr.program"].browse(self.key.program_ids)

    def member(self, program, text):
        text = contract.parse_text(text, "member", maximum=32)
        member = self.env["klodr.member"]._find_by_mobile_or_code(program, text)
        if not member:
            raise ApiError("not_found", "Unknown member.")
        return member

    def store(self, ref):
        if ref is None:
            return None
        ref = contract.parse_text(ref, "store_ref", maximum=64)
        store = self.env["klodr.store"].search([("code", "=", ref), ("company_id", "=", self.key.company_id)],
                                               limit=1)
        if not store:
            raise contract.FieldError("store_ref", f"unknown store {ref}")
        return store

    def redemption(self, redemption_id):
        redemption = self.env["klodr.redemption"].search([
            ("id", "=", redemption_id), ("program_id", "in", self.programs().ids)], limit=1)
        if not redemption:
            raise ApiError("not_found", "Unknown redemption.")
        return redemption

    @staticmethod
    def list(value, field):
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > 500:
            raise contract.FieldError(field, f"{field} must be a list of at most 500 items")
        return value

    def lines(self, value):
        from ..tools.rules import Line  # noqa: PLC0415

        lines = []
        for index, line in enumerate(self.list(value, "lines")):
            field = f"lines[{index}]"
            if not isinstance(line, dict):
                raise contract.FieldError(field, f"{field} must be an object")
            category = line.get("category_ref")
            lines.append(Line(
                amount=contract.parse_amount(contract.require(line, "amount"), f"{field}.amount"),
                quantity=contract.parse_amount(line.get("quantity", 1), f"{field}.quantity"),
                product=contract.parse_text(line.get("product_ref"), f"{field}.product_ref", 64, required=False),
                categories=frozenset({contract.parse_text(category, f"{field}.category_ref", 64)})
                if category is not None else frozenset()))
        return tuple(lines)

    def tier_json(self, tier):
        return {"code": tier.code or None, "name": tier.name} if tier else None

    def program_json(self, program):
        return {"id": program.id, "name": program.name, "points_name": program.points_name,
                "points_symbol": program.points_symbol,
                "point_value": contract.money(program.point_value, max(self.digits, 2)),
                "min_redemption": program.min_redeem_balance, "otp_required": program.otp_required}

    def member_json(self, member):
        next_tier, needed = member._next_tier()
        return {
            "id": member.id, "code": member.code, "mobile": member.mobile, "name": member.name,
            "program_id": member.program_id.id, "tier": self.tier_json(member.tier_id),
            "balance": member.balance, "held_points": member.held_points,
            "next_tier": {"name": next_tier.name, "points_needed": needed} if next_tier else None,
            "expiring": [{"date": day.isoformat(), "points": points} for day, points in member._expiring(90)],
            "referral_code": member.referral_code,
        }

    def redemption_json(self, redemption):
        return {"redemption_id": redemption.id, "status": redemption.state, "points": redemption.points,
                "discount_amount": contract.money(redemption.discount_amount, self.digits),
                "otp_expires_at": contract.timestamp(redemption.otp_expires_at)
                if redemption.state == "pending_otp" else None}
