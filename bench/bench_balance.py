"""Balance look-up latency by mobile number with 1,000,000 members and 10,000,000 entries.

Seeds members and earn lots straight in SQL (valid hash chains, not dummies),
a few active holds, then ANALYZE; then times random look-ups the way the API
finds a member: raw SQL, the ORM search plus ``balance`` and ``held_points``
in a fresh cursor per look-up, and ``_find_by_mobile_or_code``. Baseline in
the same run: a bare ``SELECT 1`` round trip. Goal: p99 <= 10 ms.
"""
import contextlib
import datetime
import os
import random
import time

import _common as common

LOOKUP_SQL = "SELECT id, balance FROM klodr_member WHERE program_id = %s AND mobile = %s"


def build(args):
    """Install, seed, hold, analyze; return (program id, seconds, table sizes)."""
    common.create_database(args)
    registry = common.load_registry(args)
    with common.odoo_env(registry) as env:
        program_id = common.create_program(env, "Bench balance").id
    started = time.perf_counter()
    # Lots a month apart up to today, spendable for two years.
    t0 = datetime.date.today() - datetime.timedelta(days=30 * args.entries_per_member)
    cnx = common.connect(args)
    try:
        common.seed_members_and_lots(cnx, program_id, args.members, args.entries_per_member,
                                     t0=f"{t0} 10:00:00", step_days=30, expiry_days=730, chunk=100_000)
        with cnx.cursor() as cr:
            # Some members have points on hold (an OTP pending), as at a busy hour.
            cr.execute(
                """INSERT INTO klodr_ledger_hold (member_id, program_id, company_id, points, expires_at, state,
                                                  create_uid, write_uid, create_date, write_date)
                   SELECT id, program_id, company_id, 1 + balance / 10, now() AT TIME ZONE 'UTC' + interval '1 day',
                          'active', 1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                     FROM klodr_member WHERE program_id = %s ORDER BY random() LIMIT %s""",
                [program_id, args.holds])
        cnx.commit()
        cnx.autocommit = True
        with cnx.cursor() as cr:
            cr.execute("VACUUM ANALYZE klodr_member, klodr_ledger_entry, klodr_ledger_hold")
            cr.execute("""SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class
                           WHERE relname IN ('klodr_member', 'klodr_ledger_entry') ORDER BY relname""")
            sizes = dict(cr.fetchall())
    finally:
        cnx.close()
    return program_id, time.perf_counter() - started, sizes


def measure(paths, keys, warmup=200):
    """Time each path on each key, after a warm-up; return {label: sorted latencies in ms}.

    The paths take turns key by key, so that load from elsewhere on the
    machine weighs on all of them alike.
    """
    for key in keys[:warmup]:
        for _label, function in paths:
            function(key)
    latencies = {label: [] for label, _function in paths}
    for key in keys:
        for label, function in paths:
            started = time.perf_counter()
            function(key)
            latencies[label].append((time.perf_counter() - started) * 1000)
    return {label: sorted(values) for label, values in latencies.items()}


def main():
    parser = common.make_parser(__doc__.splitlines()[0], "klodr_bench_balance")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries-per-member", type=int, default=10)
    parser.add_argument("--holds", type=int, default=10_000, help="active holds on random members")
    parser.add_argument("--lookups", type=int, default=10_000, help="timed look-ups per path")
    args = common.parse_args(parser)
    needed_gb = 2 + args.members * args.entries_per_member * 1.2e-6  # ~0.7 kB per entry with indexes and WAL
    if common.free_disk_gb() < needed_gb:
        raise SystemExit(f"only {common.free_disk_gb():.0f} GB free; this needs about {needed_gb:.0f}")

    program_id, build_seconds, sizes = build(args)
    common.log(f"seeded {args.members:,} members and {args.members * args.entries_per_member:,} entries "
               f"in {build_seconds:.0f} s ({sizes})")
    registry = common.load_registry(args)
    rng = random.Random(42)
    mobiles = [common.mobile_number(rng.randrange(args.members)) for _ in range(args.lookups)]

    cnx = common.connect(args, autocommit=True)
    cr = cnx.cursor()
    # The seeded chains are real: the addon's own checker agrees on a sample.
    cr.execute("SELECT id FROM klodr_member WHERE program_id = %s ORDER BY random() LIMIT 200", [program_id])
    chain_breaks = common.check_chains_sample(cnx, [row[0] for row in cr.fetchall()])
    common.log(f"hash chains of 200 random members checked: {len(chain_breaks)} breaks")

    def orm_lookup(mobile):
        # A fresh cursor and environment, as each HTTP request has.
        with common.odoo_env(registry) as env:
            member = env["klodr.member"].search([("program_id", "=", program_id), ("mobile", "=", mobile)])
            return member.balance, member.held_points, member.spendable_points

    def orm_find(mobile):
        with common.odoo_env(registry) as env:
            member = env["klodr.member"]._find_by_mobile_or_code(env["klodr.program"].browse(program_id), mobile)
            return member.balance, member.held_points, member.spendable_points

    def select_one(_mobile):
        cr.execute("SELECT 1")
        return cr.fetchall()

    def sql_lookup(mobile):
        cr.execute(LOOKUP_SQL, [program_id, mobile])
        return cr.fetchall()

    paths = [
        ("SELECT 1 round trip (baseline)", select_one),
        ("SQL: member by program + mobile", sql_lookup),
        ("ORM: search + balance + held_points", orm_lookup),
    ]
    if hasattr(registry["klodr.member"], "_find_by_mobile_or_code"):
        paths.append(("ORM: _find_by_mobile_or_code + balance", orm_find))
    rows, results = [], {}
    with contextlib.closing(cnx):
        common.log(f"{args.lookups:,} look-ups on each of {len(paths)} paths, taking turns ...")
        measured = measure(paths, mobiles)
        for label, latencies in measured.items():
            result = results[label] = {
                "p50_ms": common.percentile(latencies, 0.50), "p90_ms": common.percentile(latencies, 0.90),
                "p99_ms": common.percentile(latencies, 0.99), "max_ms": latencies[-1],
                "mean_ms": sum(latencies) / len(latencies),
            }
            rows.append([label, *(f"{result[k]:.3f}" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms")),
                         "" if "baseline" in label else ("ok" if result["p99_ms"] <= 10 else "SLOW")])
        cr.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {LOOKUP_SQL}", [program_id, mobiles[0]])
        plan = "\n".join(f"    {row[0]}" for row in cr.fetchall())

    print(f"\nBalance look-ups: {args.lookups:,} random mobiles, {args.members:,} members, "
          f"{args.members * args.entries_per_member:,} entries, {args.holds:,} holds; {common.code_version(args)}, "
          f"load average {os.getloadavg()[0]:.2f}")
    common.print_table(["path", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms", "goal p99 <= 10 ms"], rows)
    print(f"plan of the SQL look-up:\n{plan}")
    common.save_results("bench_balance", args, {"build_s": build_seconds, "sizes": sizes,
                                                "sample_chain_breaks": len(chain_breaks), "paths": results})
    if not args.keep:
        common.drop_database(args)


if __name__ == "__main__":
    main()
