"""Redemptions at two counters at once: points are spent once, whatever the timing."""
import time

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError
from odoo.addons.loyalty_klodr.tests.common import otp_outbox


def start(member_id, points, order_ref, linger=0.3):
    def run(env):
        redemption = env["klodr.redemption"]._start(env["klodr.member"].browse(member_id), points=points,
                                                    order_ref=order_ref)
        time.sleep(linger)
        return redemption.id
    return run


def test_two_stores_start_redemptions_of_the_same_points(committed, registry, new_member, verify):
    member = new_member(500)
    with otp_outbox(registry) as sent:
        outcomes = committed.in_threads([start(member, 400, "A/1"), start(member, 400, "B/1")], retry=True)
    errors = [error for _r, error in outcomes if error]
    assert len(errors) == 1 and isinstance(errors[0], LoyaltyError) and errors[0].code == "insufficient_points"
    assert len(sent) == 1
    held = committed(lambda env: env["klodr.member"].browse(member).held_points)
    assert held == 400
    verify()


def test_two_confirmations_of_one_code_redeem_once(committed, registry, new_member, verify):
    member = new_member(500)
    with otp_outbox(registry) as sent:
        redemption_id = committed(start(member, 300, "A/2", linger=0))
        code = dict(sent)[redemption_id]

        def confirm(env):
            result = env["klodr.redemption"].browse(redemption_id)._confirm(code)
            time.sleep(0.3)
            return result

        outcomes = committed.in_threads([confirm, confirm], retry=True)
    statuses = sorted(result.get("error", result["status"]) for result, _e in outcomes)
    assert statuses == ["confirmed", "redemption_not_pending"], outcomes
    assert committed(lambda env: env["klodr.member"].browse(member).balance) == 200
    verify()


def test_redeem_beside_a_refund_never_overdraws(committed, registry, new_member, verify):
    member = new_member(500)
    with otp_outbox(registry) as sent:
        redemption_id = committed(start(member, 400, "A/3", linger=0))
        code = dict(sent)[redemption_id]

        def confirm(env):
            return env["klodr.redemption"].browse(redemption_id)._confirm(code)

        def refund(env):
            entry = env["klodr.ledger.entry"]._post(env["klodr.member"].browse(member), "refund", -300)
            time.sleep(0.2)
            return entry.id

        outcomes = committed.in_threads([confirm, refund], retry=True)
    confirm_outcome, refund_outcome = outcomes
    assert refund_outcome[1] is None
    balance = committed(lambda env: env["klodr.member"].browse(member).balance)
    if confirm_outcome[1] is None:
        assert balance == 500 - 400 - 300  # the refund came after and may take the balance below zero
    else:
        assert isinstance(confirm_outcome[1], LoyaltyError) and balance == 200
    verify()
