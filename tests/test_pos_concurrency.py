"""Two counters redeem the same member's points at the same moment: one wins.

Real parallel transactions (``committed.in_threads``) through the cashier's RPC methods of
two points of sale of the same program.
"""
import time
import uuid

from odoo.addons.loyalty_klodr.tests.common import otp_outbox


def _configs(committed, program):
    def create(env):
        store = env["klodr.store"].create({"name": "POS race", "code": f"RACE-{uuid.uuid4().hex[:6]}",
                                           "company_id": env.ref("base.main_company").id})
        configs = env["pos.config"].create([
            {"name": f"Counter {n} {uuid.uuid4().hex[:6]}", "company_id": env.ref("base.main_company").id,
             "klodr_program_id": program, "klodr_store_id": store.id} for n in (1, 2)])
        return configs.ids
    return committed(create)


def _start(config_id, member_id, points, linger=0.3):
    def run(env):
        cashier = env.ref("base.user_admin")
        config = env["pos.config"].with_user(cashier).browse(config_id)
        product = env.ref("loyalty_klodr_pos.product_klodr_reward")
        lines = [{"product_id": product.id, "qty": 1, "price_unit": 1000.0, "tax_ids": []}]
        answer = config.klodr_start_redemption(str(uuid.uuid4()), member_id, points=points, lines=lines)
        time.sleep(linger)  # both transactions are open at once
        return answer
    return run


def test_two_counters_redeeming_the_same_points_one_wins(committed, registry, program, new_member, verify):
    member = new_member(500)
    config_a, config_b = _configs(committed, program)
    with otp_outbox(registry) as sent:
        outcomes = committed.in_threads([_start(config_a, member, 400), _start(config_b, member, 400)], retry=True)
    answers = [answer for answer, error in outcomes]
    assert [error for _answer, error in outcomes] == [None, None]
    started = [a for a in answers if not a.get("error")]
    refused = [a for a in answers if a.get("error")]
    assert len(started) == 1 and started[0]["status"] == "pending_otp", answers
    assert len(refused) == 1 and refused[0]["error"] == "insufficient_points", answers
    assert len(sent) == 1
    held = committed(lambda env: env["klodr.member"].browse(member).held_points)
    assert held == 400
    verify()


def test_two_counters_redeeming_different_points_both_win(committed, registry, program, new_member, verify):
    member = new_member(1000)
    config_a, config_b = _configs(committed, program)
    with otp_outbox(registry) as sent:
        outcomes = committed.in_threads([_start(config_a, member, 400), _start(config_b, member, 400)], retry=True)
    assert all(error is None and answer["status"] == "pending_otp" for answer, error in outcomes), outcomes
    assert len(sent) == 2
    assert committed(lambda env: env["klodr.member"].browse(member).held_points) == 800
    verify()
