"""Points move safely under real parallel transactions (threads, each with its own cursor)."""
import time

import psycopg2

from odoo.exceptions import ConcurrencyError

from odoo.addons.loyalty_klodr.exceptions import InsufficientPoints

CONCURRENCY_ERRORS = (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected, ConcurrencyError)


def redeem(member_id, points, key=None, linger=0.3):
    """A redemption that keeps its transaction open a moment, as a slow request would."""
    def run(env):
        member = env["klodr.member"].browse(member_id)
        entry = env["klodr.ledger.entry"]._post(member, "redeem", -points, idempotency_key=key)
        time.sleep(linger)
        return entry.id
    return run


def balance(committed, member_id):
    return committed(lambda env: env["klodr.member"].browse(member_id).balance)


def test_two_stores_spend_the_same_points_exactly_one_succeeds(committed, new_member, verify):
    member = new_member(500)
    outcomes = committed.in_threads([redeem(member, 400, "store-a"), redeem(member, 400, "store-b")])
    successes = [result for result, error in outcomes if error is None]
    failures = [error for result, error in outcomes if error is not None]
    assert len(successes) == 1
    assert len(failures) == 1 and isinstance(failures[0], CONCURRENCY_ERRORS + (InsufficientPoints,))
    assert balance(committed, member) == 100
    verify()


def test_retried_loser_is_told_points_are_insufficient(committed, new_member, verify):
    member = new_member(500)
    outcomes = committed.in_threads([redeem(member, 400, "a"), redeem(member, 400, "b")], retry=True)
    errors = [error for _result, error in outcomes if error]
    assert len(errors) == 1 and isinstance(errors[0], InsufficientPoints), outcomes
    assert balance(committed, member) == 100
    verify()


def test_same_idempotency_key_in_parallel_credits_once(committed, new_member, verify):
    member = new_member(0)

    def earn(env):
        entry = env["klodr.ledger.entry"]._post(env["klodr.member"].browse(member), "earn", 250,
                                                idempotency_key="order-42")
        time.sleep(0.2)
        return entry.id

    outcomes = committed.in_threads([earn, earn, earn], retry=True)
    assert all(error is None for _result, error in outcomes), outcomes
    assert len({result for result, _error in outcomes}) == 1
    assert balance(committed, member) == 250
    assert committed(lambda env: env["klodr.ledger.entry"].search_count([("member_id", "=", member)])) == 1
    verify()


def test_many_clients_never_overdraw(committed, new_member, verify):
    member = new_member(500)
    clients = 6
    spends_each = 6

    def client(number):
        def run(env):
            done = 0
            for spend in range(spends_each):
                # each spend is its own transaction, retried on conflict, as API requests are
                try:
                    committed(redeem(member, 30, f"c{number}-{spend}", linger=0.01), retry=True)
                except InsufficientPoints:
                    continue  # the points ran out: the expected end of the race
                done += 1
            return done
        return run

    outcomes = committed.in_threads([client(n) for n in range(clients)])
    assert all(error is None for _result, error in outcomes), outcomes
    spent = 30 * sum(result for result, _error in outcomes)
    assert spent == 480  # 16 spends of 30 fit in 500; the 17th never does
    assert balance(committed, member) == 500 - spent >= 0
    verify()


def test_two_holds_for_the_same_points_one_wins(committed, new_member, verify):
    member = new_member(300)

    def hold(env):
        placed = env["klodr.ledger.hold"]._place(env["klodr.member"].browse(member), 200, ref="otp")
        time.sleep(0.2)
        return placed.id

    outcomes = committed.in_threads([hold, hold], retry=True)
    assert sorted(type(error).__name__ for _r, error in outcomes if error) == ["InsufficientPoints"]
    held = committed(lambda env: env["klodr.member"].browse(member).held_points)
    assert held == 200
    verify()


def test_expiry_run_beside_redemptions_keeps_the_ledger_whole(committed, new_member, program, verify):
    from datetime import date, datetime  # noqa: PLC0415

    members = []
    for _ in range(4):
        member = new_member(0)
        committed(lambda env, m=member: [
            env["klodr.ledger.entry"]._post(env["klodr.member"].browse(m), "earn", 100,
                                            date=datetime(2025, 1, 5 + i)) for i in range(3)])
        committed(lambda env, m=member: env["klodr.ledger.entry"]._post(
            env["klodr.member"].browse(m), "earn", 100))
        members.append(member)

    def expire(env):
        return env["klodr.ledger.entry"]._expire_due_lots(
            today=date(2026, 6, 1), programs=env["klodr.program"].browse(program), batch_size=2)

    outcomes = committed.in_threads([expire] + [redeem(m, 50, f"r{m}") for m in members], retry=True)
    assert all(error is None or isinstance(error, InsufficientPoints) for _r, error in outcomes), outcomes
    committed(expire)  # whatever a conflict left for later is expired now
    for member in members:
        # the 300 expired points are gone; at most 50 of the current 100 were redeemed
        assert balance(committed, member) in (50, 100)
    verify()
