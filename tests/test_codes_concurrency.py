"""Promotional codes and claims grant once under real parallel transactions."""
import time

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError


def make_code(committed, program, points=75):
    def create(env):
        batch = env["klodr.code.batch"].create({
            "name": "Race cards", "program_id": program, "kind": "points", "points": points, "quantity": 1})
        batch.action_generate()
        return batch.code_ids.code
    return committed(create)


def redeem(program, member_id, code, linger=0.3):
    """A redemption that keeps its transaction open a moment, as a slow request would."""
    def run(env):
        redeemed = env["klodr.code"]._redeem_code(
            env["klodr.program"].browse(program), env["klodr.member"].browse(member_id), code)
        time.sleep(linger)
        return redeemed.id
    return run


def test_two_members_redeem_the_same_code_exactly_one_gets_the_points(committed, program, new_member, verify):
    first, second = new_member(0), new_member(0)
    code = make_code(committed, program)
    outcomes = committed.in_threads([redeem(program, first, code), redeem(program, second, code)], retry=True)
    winners = [index for index, (_result, error) in enumerate(outcomes) if error is None]
    errors = [error for _result, error in outcomes if error is not None]
    assert len(winners) == 1, outcomes
    assert len(errors) == 1 and isinstance(errors[0], LoyaltyError) and errors[0].code == "code_used", outcomes
    winner = (first, second)[winners[0]]

    def state(env):
        members = env["klodr.member"].browse([first, second])
        record = env["klodr.code"].search([("program_id", "=", program), ("code", "=", code)])
        entries = env["klodr.ledger.entry"].search_count([("program_id", "=", program), ("source_ref", "=", code)])
        return members.mapped("balance"), record.state, record.member_id.id, entries

    balances, code_state, used_by, entries = committed(state)
    assert sorted(balances) == [0, 75]
    assert (code_state, used_by, entries) == ("used", winner, 1)
    verify()


def test_one_member_submitting_a_code_twice_at_once_gets_it_once(committed, program, new_member, verify):
    member = new_member(0)
    code = make_code(committed, program, points=40)
    outcomes = committed.in_threads([redeem(program, member, code), redeem(program, member, code)], retry=True)
    errors = [error for _result, error in outcomes if error is not None]
    assert len(errors) == 1 and getattr(errors[0], "code", None) == "code_used", outcomes
    assert committed(lambda env: env["klodr.member"].browse(member).balance) == 40
    verify()


def test_two_reviewers_approve_the_same_claim_points_once(committed, program, new_member, verify):
    member = new_member(0)

    def create(env):
        rule = env["klodr.earn.rule"].create({
            "name": "Receipt", "program_id": program, "kind": "fixed", "points": 100, "min_amount": 20,
            "tier_multiplied": False, "entry_type": "bonus"})
        return env["klodr.claim"].create({"member_id": member, "rule_id": rule.id, "amount": 99,
                                          "receipt_ref": "R-1"}).id
    claim = committed(create)

    def approve(env):
        env["klodr.claim"].browse(claim).action_approve()
        time.sleep(0.3)

    outcomes = committed.in_threads([approve, approve], retry=True)
    assert all(error is None for _result, error in outcomes), outcomes
    assert committed(lambda env: env["klodr.member"].browse(member).balance) == 100
    assert committed(lambda env: env["klodr.ledger.entry"].search_count([("member_id", "=", member)])) == 1
    verify()
