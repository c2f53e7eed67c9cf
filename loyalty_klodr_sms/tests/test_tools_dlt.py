"""The DLT gateway request and answer, and the promotional window (no database)."""
from datetime import datetime

import pytest

from odoo.addons.loyalty_klodr_sms.tools import dlt, window

CONFIG = dlt.GatewayConfig(
    url="https://gw.example/send", method="post_form", auth_in="header", auth_name="authkey", auth_value="K1",
    sender_id="KLODRR", entity_id="1201", param_to="mobiles", param_message="message", param_sender="sender",
    param_entity="PE_ID", param_template="DLT_TE_ID", extra_params="route=4&country=91",
    unicode_params="unicode=1", number_format="digits", success_key="type", success_value="success")


@pytest.mark.parametrize("fmt, expected", [("digits", "919845012345"), ("e164", "+919845012345"),
                                           ("national", "9845012345")])
def test_number_formats(fmt, expected):
    assert dlt.format_number("+919845012345", fmt) == expected


@pytest.mark.parametrize("number", ["", None, "12", "+1"])
def test_bad_numbers(number):
    with pytest.raises(dlt.InvalidNumber):
        dlt.format_number(number)


def test_form_request():
    request = dlt.build_request(CONFIG, "+919845012345", "Hello -KLODR", "1107")
    assert (request.method, request.url, request.json, request.params) == ("POST", "https://gw.example/send", None, {})
    assert request.headers["authkey"] == "K1"
    assert request.data == {"mobiles": "919845012345", "message": "Hello -KLODR", "sender": "KLODRR",
                            "PE_ID": "1201", "DLT_TE_ID": "1107", "route": "4", "country": "91"}


def test_unicode_params_only_for_unicode_text():
    assert "unicode" not in dlt.build_request(CONFIG, "+919845012345", "Hello", None).data
    assert dlt.build_request(CONFIG, "+919845012345", "नमस्ते", None).data["unicode"] == "1"


def test_empty_names_and_values_are_not_sent():
    config = dlt.GatewayConfig(url="https://gw.example/send", method="get", auth_in="param", auth_name="apikey",
                               auth_value="K2", param_entity="", param_template="tpl")
    request = dlt.build_request(config, "+919845012345", "Hi", None)
    assert request.params == {"to": "919845012345", "message": "Hi", "apikey": "K2"}
    assert "Authorization" not in request.headers


@pytest.mark.parametrize("status, text, state, retry", [
    (200, '{"type": "success", "message": "3763646c3058"}', dlt.SUCCESS, False),
    (200, '{"type": "SUCCESS"}', dlt.SUCCESS, False),
    (200, '{"type": "error", "message": "Invalid template"}', dlt.REJECTED, False),
    (200, '{"message": "no type"}', dlt.REJECTED, False),
    (200, "OK", dlt.SERVER_ERROR, True),
    (500, "", dlt.SERVER_ERROR, True),
    (429, '{"message": "slow down"}', dlt.SERVER_ERROR, True),
    (401, '{"message": "bad key"}', dlt.UNAUTHORIZED, False),
    (400, '{"errors": [{"message": "bad number"}]}', dlt.REJECTED, False),
])
def test_interpret_response(status, text, state, retry):
    outcome = dlt.interpret_response(CONFIG, status, text)
    assert (outcome.state, outcome.retry) == (state, retry)


def test_any_2xx_without_success_key():
    config = dlt.GatewayConfig(url="https://gw.example/send")
    assert dlt.interpret_response(config, 202, "queued").ok


def test_reasons():
    outcome = dlt.interpret_response(CONFIG, 400, '{"errors": [{"message": "bad number"}]}')
    assert outcome.reason == "HTTP 400: bad number"
    assert dlt.interpret_response(CONFIG, 200, '{"type": "failed"}').reason == 'HTTP 200: type is "failed"'


def test_redact():
    text = "got message=Your OTP is 483920. -KLODR to 919845012345 key K-SECRET"
    reason = dlt.redact(text, ["Your OTP is 483920. -KLODR", "+919845012345", "919845012345", "K-SECRET"])
    assert "483920" not in reason and "9845012345" not in reason and "K-SECRET" not in reason
    assert dlt.redact("x" * 500).endswith("…") and len(dlt.redact("x" * 500)) == dlt.MAX_REASON
    # Digit runs of a secret are hidden even when the text around them differs (URL-encoded...).
    assert "483920" not in dlt.redact("Your+OTP+is+483920", ["Your OTP is 483920."])


def test_config_checked():
    with pytest.raises(ValueError):
        dlt.GatewayConfig(method="put")
    assert not dlt.GatewayConfig(url="ftp://x").configured


@pytest.mark.parametrize("utc, expected", [
    (datetime(2026, 3, 10, 6, 30), None),  # 12:00 IST
    (datetime(2026, 3, 10, 4, 30), None),  # 10:00 IST: open
    (datetime(2026, 3, 10, 15, 29), None),  # 20:59 IST
    (datetime(2026, 3, 10, 15, 30), datetime(2026, 3, 11, 4, 30)),  # 21:00 IST: closed
    (datetime(2026, 3, 10, 16, 30), datetime(2026, 3, 11, 4, 30)),  # 22:00 IST
    (datetime(2026, 3, 10, 20, 0), datetime(2026, 3, 11, 4, 30)),  # 01:30 IST the next day
    (datetime(2026, 3, 10, 1, 0), datetime(2026, 3, 10, 4, 30)),  # 06:30 IST
])
def test_window_kolkata(utc, expected):
    assert window.next_send_time(utc, "Asia/Kolkata") == expected


def test_window_unknown_timezone_is_utc():
    assert window.next_send_time(datetime(2026, 3, 10, 22, 0), "Nowhere/City") == datetime(2026, 3, 11, 10, 0)
