"""Expiry of 1,000,000 lots: ``_expire_due_lots`` with a commit per batch.

Builds members with expired earn lots straight in SQL (valid hash chains,
balances and chain heads, so ``verify`` stays clean), plus a small sample
program verified afterwards. For each batch size, a copy of that database
is expired once (timed, goal <= 60 s for 1,000,000 lots), then again (must
expire 0); balances must all be 0, and the sample program's ledger whole.
"""
import cProfile
import datetime
import io
import pstats
import time

import _common as common

SAMPLE_MEMBERS = 1000


def build(args):
    """Install, then seed the big program and the sample one; return the seeding time."""
    common.create_database(args)
    registry = common.load_registry(args)
    with common.odoo_env(registry) as env:
        big = common.create_program(env, "Bench expiry")
        sample = common.create_program(env, "Bench expiry sample")
        program_ids = big.id, sample.id
    started = time.perf_counter()
    t0 = datetime.date.today() - datetime.timedelta(days=3 * 365)
    cnx = common.connect(args)
    try:
        # Lots 7 days apart that expired a year after earning: two years ago.
        common.seed_members_and_lots(cnx, program_ids[0], args.members, args.lots, t0=f"{t0} 10:00:00",
                                     step_days=7, expiry_days=365, chunk=50_000)
        common.seed_members_and_lots(cnx, program_ids[1], SAMPLE_MEMBERS, args.lots, t0=f"{t0} 10:00:00",
                                     step_days=7, expiry_days=365)
        # As a database in use would be: statistics and visibility map current.
        cnx.autocommit = True
        with cnx.cursor() as cr:
            cr.execute("VACUUM ANALYZE klodr_member, klodr_ledger_entry")
    finally:
        cnx.close()
    return time.perf_counter() - started, program_ids


def expire(registry, today, batch_size, profile=False, workers=1):
    """One ``_expire_due_lots`` run committing per batch; return (lots, seconds, slowest batch)."""
    with common.odoo_env(registry) as env:
        marks = [time.perf_counter()]

        def progress(*_args, **_kwargs):
            env.cr.commit()
            marks.append(time.perf_counter())

        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        lots = env["klodr.ledger.entry"]._expire_due_lots(today=today, batch_size=batch_size, progress=progress,
                                                            workers=workers)
        if profiler:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())
        seconds = time.perf_counter() - marks[0]
    slowest = max((b - a for a, b in zip(marks, marks[1:], strict=False)), default=0.0)
    return lots, seconds, slowest


# The same writes as one expiry batch, in SQL alone: lock the members, one
# expire entry and one allocation per lot remainder, balances moved. Hashes
# are dummies (md5): this is the floor the schema (indexes, foreign keys) sets.
FLOOR_LOCK_SQL = """
SELECT id FROM klodr_member
 WHERE id IN (SELECT member_id FROM klodr_ledger_entry WHERE id = ANY(%(ids)s)) ORDER BY id FOR UPDATE
"""
FLOOR_WRITE_SQL = """
WITH lots AS (
    SELECT e.id, e.member_id, e.program_id, e.company_id,
           e.points - COALESCE((SELECT SUM(a.points) FROM klodr_ledger_allocation a
                                 WHERE a.lot_entry_id = e.id), 0) AS left_over
      FROM klodr_ledger_entry e WHERE e.id = ANY(%(ids)s)
), entries AS (
    INSERT INTO klodr_ledger_entry (program_id, company_id, member_id, entry_type, points, balance_after, date,
                                    idempotency_key, prev_hash, entry_hash, description, user_id)
    SELECT program_id, company_id, member_id, 'expire', -left_over, 0, now() AT TIME ZONE 'UTC',
           'expire:' || id, md5(id::text) || md5(id::text), md5(id::text) || md5(id::text), 'Expired', 1
      FROM lots WHERE left_over > 0
    RETURNING id, idempotency_key, points
), allocations AS (
    INSERT INTO klodr_ledger_allocation (debit_entry_id, lot_entry_id, points)
    SELECT id, substr(idempotency_key, 8)::int, -points FROM entries
)
UPDATE klodr_member m SET balance = m.balance - s.n, chain_head = md5(m.id::text) || md5(m.id::text)
  FROM (SELECT member_id, SUM(left_over) AS n FROM lots WHERE left_over > 0 GROUP BY member_id) s
 WHERE m.id = s.member_id
"""


def sql_floor(args, db, today, batch_size):
    """The floor for the same batches; return (lots, seconds)."""
    cnx = common.connect(args, db)
    try:
        with cnx.cursor() as cr:
            started = time.perf_counter()
            cr.execute("SELECT id FROM klodr_ledger_entry WHERE points > 0 AND expiry_date < %s ORDER BY id",
                       [today])
            lot_ids = [row[0] for row in cr.fetchall()]
            for start in range(0, len(lot_ids), batch_size):
                batch = {"ids": lot_ids[start:start + batch_size]}
                cr.execute(FLOOR_LOCK_SQL, batch)
                cr.execute(FLOOR_WRITE_SQL, batch)
                cnx.commit()
            return len(lot_ids), time.perf_counter() - started
    finally:
        cnx.close()


def check(registry, sample_id):
    """(members with a balance left, expire entries, verify breaks of the sample, verify seconds)."""
    with common.odoo_env(registry) as env:
        env.cr.execute("SELECT COUNT(*) FROM klodr_member WHERE balance <> 0")
        left = env.cr.fetchone()[0]
        env.cr.execute("SELECT COUNT(*) FROM klodr_ledger_entry WHERE entry_type = 'expire'")
        expired = env.cr.fetchone()[0]
        started = time.perf_counter()
        breaks = env["klodr.ledger.entry"]._verify_ledger(program_ids=[sample_id])
        return left, expired, breaks, time.perf_counter() - started


def main():
    parser = common.make_parser(__doc__.splitlines()[0], "klodr_bench_expiry")
    parser.add_argument("--members", type=int, default=250_000, help="members of the big program")
    parser.add_argument("--lots", type=int, default=4, help="expired lots per member")
    parser.add_argument("--batch-sizes", default="5000,20000",
                        help="batch sizes to time, comma-separated, each on a fresh copy (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2,
                        help="parallel transactions of the expiry run, as the cron's "
                             "loyalty_klodr.expiry_workers (default: %(default)s)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first run of the first batch size")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the SQL-only floor run (same batches, no Python, dummy hashes)")
    parser.add_argument("--verify-all", action="store_true",
                        help="also time _verify_ledger() over every program after the last run")
    args = common.parse_args(parser)
    if common.free_disk_gb() < 10:
        raise SystemExit(f"only {common.free_disk_gb():.0f} GB free; this needs about 10")

    build_seconds, (_big_id, sample_id) = build(args)
    total_lots = (args.members + SAMPLE_MEMBERS) * args.lots
    common.log(f"seeded {total_lots:,} lots in {build_seconds:.0f} s")
    today = datetime.date.today()
    work_db = f"{args.db}_run"
    rows, results = [], []
    for number, batch_size in enumerate(int(b) for b in args.batch_sizes.split(",")):
        common.clone_database(args, args.db, work_db)
        registry = common.load_registry(args, work_db)
        common.log(f"expiring with batch_size={batch_size}, workers={args.workers} ...")
        lots, seconds, slowest = expire(registry, today, batch_size, profile=args.profile and not number,
                                        workers=args.workers)
        common.log(f"  {lots:,} lots in {seconds:.1f} s; second run ...")
        again, again_seconds, _slowest = expire(registry, today, batch_size, workers=args.workers)
        left, expired, breaks, verify_seconds = check(registry, sample_id)
        result = {
            "batch_size": batch_size, "lots": lots, "seconds": seconds, "lots_per_s": lots / seconds,
            "slowest_batch_s": slowest, "second_run_lots": again, "second_run_s": again_seconds,
            "members_with_balance": left, "expire_entries": expired, "sample_breaks": len(breaks),
            "sample_verify_s": verify_seconds,
        }
        if args.verify_all and number == len(args.batch_sizes.split(",")) - 1:
            with common.odoo_env(registry) as env:
                started = time.perf_counter()
                result["verify_all_breaks"] = len(env["klodr.ledger.entry"]._verify_ledger())
                result["verify_all_s"] = time.perf_counter() - started
        for item in breaks[:5]:
            common.log(f"  break: {item}")
        results.append(result)
        rows.append([batch_size, f"{lots:,}", f"{seconds:.1f}", f"{lots / seconds:,.0f}", f"{slowest:.2f}",
                     "ok" if seconds <= 60 * total_lots / 1e6 else "SLOW", again, f"{again_seconds:.2f}", left,
                     f"{len(breaks)} ({verify_seconds:.1f} s)"])
        common.drop_database(args, work_db)
    if not args.no_floor:
        batch_size = results[0]["batch_size"]
        common.clone_database(args, args.db, work_db)
        common.log(f"SQL floor, batch_size={batch_size} ...")
        lots, seconds = sql_floor(args, work_db, today, batch_size)
        common.drop_database(args, work_db)
        results.append({"floor": True, "batch_size": batch_size, "lots": lots, "seconds": seconds})
        rows.append([f"{batch_size} SQL floor", f"{lots:,}", f"{seconds:.1f}", f"{lots / seconds:,.0f}", "",
                     "ok" if seconds <= 60 * total_lots / 1e6 else "SLOW", "", "", "", ""])

    print(f"\nExpiry of {total_lots:,} lots ({args.members:,} + {SAMPLE_MEMBERS:,} members x {args.lots}), "
          f"seeded in {build_seconds:.0f} s; {common.code_version(args)}")
    common.print_table(["batch", "lots expired", "seconds", "lots/s", "slowest batch s", "goal <= 60 s/1M",
                        "2nd run lots", "2nd run s", "balances left", "sample verify breaks"], rows)
    for result in results:
        if "verify_all_s" in result:
            print(f"_verify_ledger() over all {total_lots * 2:,} entries: {result['verify_all_breaks']} breaks "
                  f"in {result['verify_all_s']:.1f} s")
    common.save_results("bench_expiry", args, {"build_s": build_seconds, "lots": total_lots, "runs": results})
    if not args.keep:
        common.drop_database(args)


if __name__ == "__main__":
    main()
