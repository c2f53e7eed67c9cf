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


def _members_with_expired_lots(committed, new_member, count, lots=3):
    """``count`` members with ``lots`` lots of 100 earned in January 2025 and 100 earned today."""
    from datetime import datetime  # noqa: PLC0415

    members = []
    for _ in range(count):
        member = new_member(0)
        committed(lambda env, m=member: [
            env["klodr.ledger.entry"]._post(env["klodr.member"].browse(m), "earn", 100,
                                            date=datetime(2025, 1, 5 + i)) for i in range(lots)])
        committed(lambda env, m=member: env["klodr.ledger.entry"]._post(env["klodr.member"].browse(m), "earn", 100))
        members.append(member)
    return members


def _expire_in_parallel(program, workers, progress=None):
    from datetime import date  # noqa: PLC0415

    def expire(env):
        return env["klodr.ledger.entry"]._expire_due_lots(
            today=date(2026, 6, 1), programs=env["klodr.program"].browse(program), batch_size=2, workers=workers,
            progress=progress)
    return expire


def _expire_entries(committed, program):
    def read(env):
        env.cr.execute("""SELECT e.idempotency_key, a.lot_entry_id, -e.points, a.points, e.user_id
                            FROM klodr_ledger_entry e JOIN klodr_ledger_allocation a ON a.debit_entry_id = e.id
                           WHERE e.program_id = %s AND e.entry_type = 'expire'""", [program])
        return env.cr.fetchall()
    return committed(read)


def _expire_transactions(committed, program):
    """How many transactions wrote the program's expire entries (each batch commits on its own)."""
    def read(env):
        env.cr.execute("""SELECT COUNT(DISTINCT xmin::text) FROM klodr_ledger_entry
                           WHERE program_id = %s AND entry_type = 'expire'""", [program])
        return env.cr.fetchone()[0]
    return committed(read)


def test_parallel_expiry_settles_every_lot_once(committed, new_member, program, verify):
    members = _members_with_expired_lots(committed, new_member, 7)
    # 21 expired lots of 7 members in batches of 2 over 3 transactions at once
    assert committed(_expire_in_parallel(program, workers=3)) == 21
    assert committed(_expire_in_parallel(program, workers=3)) == 0
    rows = _expire_entries(committed, program)
    assert len(rows) == 21
    assert len({key for key, *_rest in rows}) == 21
    # one transaction per batch: each worker's lots (3 a member) in batches of 2
    shares = [sum(1 for member in members if member % 3 == worker) for worker in range(3)]
    assert _expire_transactions(committed, program) == sum(-(-3 * share // 2) for share in shares)
    assert all(key == f"expire:{lot}" and points == allocated == 100 and user is None
               for key, lot, points, allocated, user in rows)
    assert all(balance(committed, member) == 100 for member in members)
    verify()


def test_parallel_expiry_beside_redemptions_keeps_the_ledger_whole(committed, new_member, program, verify):
    members = _members_with_expired_lots(committed, new_member, 4)
    outcomes = committed.in_threads(
        [_expire_in_parallel(program, workers=2)] + [redeem(m, 50, f"r{m}") for m in members], retry=True)
    assert all(error is None or isinstance(error, InsufficientPoints) for _r, error in outcomes), outcomes
    committed(_expire_in_parallel(program, workers=2))  # whatever a conflict left for later
    assert len(_expire_entries(committed, program)) == 12
    for member in members:
        # 300 expired; a redemption that ran before the expiry took 50 of the old lots, after it of the new
        assert balance(committed, member) in (50, 100)
    verify()


def test_parallel_expiry_out_of_time_stops_and_the_next_run_resumes(committed, new_member, program, verify):
    members = _members_with_expired_lots(committed, new_member, 6)
    calls = []

    def out_of_time(processed, remaining=None):
        calls.append(processed)
        return 0  # the cron's budget is spent from the first batch on

    first = committed(_expire_in_parallel(program, workers=2, progress=out_of_time))
    assert calls and 0 < first < 18  # each thread stops after the batch it was running
    watermark = committed(lambda env: env["klodr.program"].browse(program).expiry_checked_until)
    assert not watermark  # not every lot was settled: the next run looks at all of them again
    assert committed(_expire_in_parallel(program, workers=2)) == 18 - first
    assert committed(lambda env: env["klodr.program"].browse(program).expiry_checked_until)
    assert len(_expire_entries(committed, program)) == 18
    assert all(balance(committed, member) == 100 for member in members)
    verify()


def test_expiry_cron_runs_in_parallel_and_twice_expires_once(committed, new_member, program, verify):
    """The real cron job (its own cursor, ``_commit_progress``), as the scheduler runs it."""
    from datetime import datetime  # noqa: PLC0415

    from dateutil.relativedelta import relativedelta  # noqa: PLC0415

    earned = datetime.now().replace(microsecond=0) - relativedelta(months=14)  # expired two months ago
    members = []
    for _ in range(4):
        member = new_member(0)
        committed(lambda env, m=member: [
            env["klodr.ledger.entry"]._post(env["klodr.member"].browse(m), "earn", 100,
                                            date=earned + relativedelta(days=i)) for i in range(3)])
        committed(lambda env, m=member: env["klodr.ledger.entry"]._post(env["klodr.member"].browse(m), "earn", 100))
        members.append(member)
    committed(lambda env: env["ir.config_parameter"].set_param("loyalty_klodr.expiry_workers", "2"))

    def run_cron(env):
        env.ref("loyalty_klodr.ir_cron_klodr_expire_lots").method_direct_trigger()

    committed(run_cron)
    assert len(_expire_entries(committed, program)) == 12
    # two workers, one batch each (members split by id parity): two transactions, not the cron's one
    assert _expire_transactions(committed, program) == len({member % 2 for member in members})
    committed(run_cron)
    assert len(_expire_entries(committed, program)) == 12
    assert all(balance(committed, member) == 100 for member in members)
    verify()
