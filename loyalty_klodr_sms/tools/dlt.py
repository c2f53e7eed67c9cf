"""An Indian DLT-compliant HTTP SMS gateway: the request to send and how to read its answer.

Indian operators only deliver commercial SMS registered on a DLT platform (TRAI TCCCPR 2018):
each message carries the sender's principal entity id (PE id), a registered 6-character header
(sender id) and the id of the registered content template it matches. Gateways (MSG91, Gupshup,
Kaleyra, Textlocal, ...) all take these over plain HTTP, under different parameter names, so the
names are configuration. Nothing here touches the network or the database: the adapter
(``sms_api.SmsApiDltHttp``) sends the :class:`Request` with ``requests`` and hands the answer to
:func:`interpret_response`.

Failure reasons are kept on the SMS record: they are redacted (:func:`redact`) so that neither the
text (an OTP), nor the number, nor the API key is copied out of the one place it belongs.
"""
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import phonenumbers

METHODS = ("get", "post_form", "post_json")
AUTH_PLACES = ("header", "param", "none")
NUMBER_FORMATS = ("digits", "e164", "national")

# Answer states, mapped to ``sms.sms.failure_type`` by the adapter.
SUCCESS = "success"
SERVER_ERROR = "server_error"  # transient: retried by the queue
UNAUTHORIZED = "dlt_unauthorized"
REJECTED = "dlt_rejected"
NOT_CONFIGURED = "dlt_not_configured"
WRONG_NUMBER = "wrong_number_format"
NUMBER_MISSING = "sms_number_missing"

RETRYABLE_STATUSES = frozenset({408, 425, 429})
MAX_REASON = 200
_ERROR_KEYS = ("message", "error", "errors", "msg", "description", "detail", "details", "reason",
               "status_message", "ErrorMessage", "errorMessage")


class InvalidNumber(ValueError):
    """The destination is not a usable phone number."""


@dataclass(frozen=True)
class GatewayConfig:
    """What an administrator configures for the company (Settings → SMS)."""

    url: str = ""
    method: str = "post_form"
    auth_in: str = "header"
    auth_name: str = ""
    auth_value: str = ""
    sender_id: str = ""
    entity_id: str = ""
    param_to: str = "to"
    param_message: str = "message"
    param_sender: str = "sender"
    param_entity: str = "entity_id"
    param_template: str = "template_id"
    extra_params: str = ""
    unicode_params: str = ""
    number_format: str = "digits"
    success_key: str = ""
    success_value: str = ""

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}")
        if self.auth_in not in AUTH_PLACES:
            raise ValueError(f"auth_in must be one of {AUTH_PLACES}")
        if self.number_format not in NUMBER_FORMATS:
            raise ValueError(f"number_format must be one of {NUMBER_FORMATS}")

    @property
    def configured(self):
        return bool(self.url and self.url.strip().lower().startswith(("http://", "https://")))


@dataclass(frozen=True)
class Request:
    """One HTTP request, ready for ``requests.Session.request(**request.kwargs())``."""

    method: str
    url: str
    headers: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    data: dict | None = None
    json: dict | None = None

    def kwargs(self):
        kwargs = {"method": self.method, "url": self.url, "headers": dict(self.headers),
                  "params": dict(self.params) or None}
        if self.data is not None:
            kwargs["data"] = dict(self.data)
        if self.json is not None:
            kwargs["json"] = dict(self.json)
        return kwargs


@dataclass(frozen=True)
class Outcome:
    """What the gateway's answer means for one SMS."""

    state: str
    reason: str = ""
    retry: bool = False

    @property
    def ok(self):
        return self.state == SUCCESS


def format_number(e164, number_format="digits"):
    """``+919845012345`` as the gateway wants it: ``919845012345`` (digits), unchanged (e164) or
    ``9845012345`` (national).

    :raise InvalidNumber: when ``e164`` is not an E.164 number.
    """
    text = (e164 or "").strip()
    if not text:
        raise InvalidNumber("no number")
    try:
        number = phonenumbers.parse(text if text.startswith("+") else f"+{text}", None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(str(exc)) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidNumber("not a possible number")
    canonical = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number_format == "e164":
        return canonical
    if number_format == "national":
        return str(number.national_number)
    return canonical[1:]


def parse_params(text):
    """``"route=4&country=91"`` as a dict (blank and malformed parts are ignored)."""
    return dict(parse_qsl((text or "").strip().lstrip("?"), keep_blank_values=True))


def is_unicode(body):
    """Whether the text needs a Unicode (UCS-2) SMS: Hindi does, plain English does not."""
    return not (body or "").isascii()


def build_request(config, to_e164, body, template_id=None):
    """The request that asks the gateway to send ``body`` to ``to_e164``.

    :raise InvalidNumber: when the destination cannot be formatted.
    """
    values = {}

    def put(name, value):
        if name and value not in (None, ""):
            values[name.strip()] = str(value)

    put(config.param_to, format_number(to_e164, config.number_format))
    put(config.param_message, body or "")
    put(config.param_sender, config.sender_id)
    put(config.param_entity, config.entity_id)
    put(config.param_template, template_id)
    for name, value in parse_params(config.extra_params).items():
        put(name, value)
    if is_unicode(body):
        for name, value in parse_params(config.unicode_params).items():
            put(name, value)
    headers = {"Accept": "application/json"}
    if config.auth_in == "header" and config.auth_name and config.auth_value:
        headers[config.auth_name.strip()] = config.auth_value or ""
    elif config.auth_in == "param":
        put(config.auth_name, config.auth_value)
    url = config.url.strip()
    if config.method == "get":
        return Request("GET", url, headers=headers, params=values)
    if config.method == "post_json":
        return Request("POST", url, headers=headers, json=values)
    return Request("POST", url, headers=headers, data=values)


def redact(text, secrets=()):
    """``text`` without any of ``secrets`` (nor the digit runs of 4 or more they contain),
    on one line, at most ``MAX_REASON`` characters."""
    text = str(text or "")
    hidden = set()
    for secret in secrets:
        secret = str(secret or "").strip()
        if len(secret) >= 3:
            hidden.add(secret)
            hidden.update(re.findall(r"\d{4,}", secret))
    for secret in sorted(hidden, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text[:MAX_REASON - 1] + "…" if len(text) > MAX_REASON else text


def _dig(data, dotted):
    """The value at ``a.b.0.c`` in parsed JSON, or ``None``."""
    current = data
    for part in dotted.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _error_text(data):
    """A human message out of a gateway's JSON answer, if it holds one."""
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return next((text for text in map(_error_text, data) if text), "")
    if isinstance(data, dict):
        for key in _ERROR_KEYS:
            value = data.get(key)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
                return str(value)
            if isinstance(value, (dict, list)):
                text = _error_text(value)
                if text:
                    return text
    return ""


def interpret_response(config, status, text, secrets=()):
    """What an HTTP answer means: success, a transient failure (retried) or a refusal.

    Success is a 2xx status and, when ``config.success_key`` is set, that key (a dotted path
    in the JSON answer) holding ``config.success_value`` (case-insensitive; any true value
    when no value is configured).
    """
    data = None
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None

    def failure(state, default, retry=False):
        detail = _error_text(data) if data is not None else (text or "")
        reason = f"HTTP {status}: {detail or default}" if status else detail or default
        return Outcome(state, redact(reason, secrets), retry)

    if status >= 500 or status in RETRYABLE_STATUSES:
        return failure(SERVER_ERROR, "the gateway is unavailable", retry=True)
    if status in (401, 403):
        return failure(UNAUTHORIZED, "the gateway refused the credentials")
    if not 200 <= status < 300:
        return failure(REJECTED, "the gateway refused the message")
    if not config.success_key:
        return Outcome(SUCCESS)
    if data is None:
        return failure(SERVER_ERROR, "the gateway's answer is not JSON", retry=True)
    value = _dig(data, config.success_key.strip())
    expected = (config.success_value or "").strip()
    if expected:
        succeeded = value is not None and str(value).strip().lower() == expected.lower()
    else:
        succeeded = bool(value)
    if succeeded:
        return Outcome(SUCCESS)
    default = f"{config.success_key} is {json.dumps(value)}" if value is not None else f"no {config.success_key}"
    return failure(REJECTED, default)


def interpret_exception(kind, host=""):
    """A failure before any answer (``timeout``, ``connection``, ``error``): always retried.

    The exception's own text is not kept: for a GET it holds the URL, with the message in it.
    """
    reasons = {
        "timeout": "no answer from the gateway in time",
        "connection": "the gateway could not be reached",
    }
    reason = reasons.get(kind, "the request to the gateway failed")
    return Outcome(SERVER_ERROR, f"{reason} ({host})" if host else reason, retry=True)
