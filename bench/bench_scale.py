"""Scale: 1,000,000 members and 10,000,000 ledger entries, then what a big chain does daily.

Seeds like ``bench_balance.py`` (SQL, valid hash chains, holds, ANALYZE), adds one member with
``--statement-entries`` (10,000) entries, then measures in one run:

* member look-up by mobile (``_find_by_mobile_or_code`` + balance + held points, a fresh
  cursor per look-up as a request has) p50/p99, beside a ``SELECT 1`` round trip;
* earn throughput at that size: ``_earn_order`` on random members, one commit each, beside
  pgbench-like raw SQL transactions (an UPDATE and an INSERT) in the same turns;
* the statement of the 10,000-entry member: ``_statement()`` and the QWeb statement rendered
  to HTML (the PDF's input);
* the analysis views: ``_read_group`` over every ``klodr.report.*`` model by its first groupable
  field, the way the pivot opens;
* ``_verify_ledger`` of the 10,000-entry member's program.
"""
import datetime
import os
import random
import time

import _common as common
import bench_balance


def timed(function, repeat=1):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return result, sorted(times)


def main():
    parser = common.make_parser(__doc__.splitlines()[0], "klodr_bench_scale")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries-per-member", type=int, default=10)
    parser.add_argument("--holds", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=5_000)
    parser.add_argument("--earns", type=int, default=1_000)
    parser.add_argument("--statement-entries", type=int, default=10_000)
    args = common.parse_args(parser)
    needed_gb = 2 + args.members * args.entries_per_member * 1.2e-6
    if common.free_disk_gb() < needed_gb:
        raise SystemExit(f"only {common.free_disk_gb():.0f} GB free; this needs about {needed_gb:.0f}")

    program_id, build_seconds, sizes = bench_balance.build(args)
    common.log(f"seeded {args.members:,} members, {args.members * args.entries_per_member:,} entries in "
               f"{build_seconds:.0f} s ({sizes})")
    registry = common.load_registry(args)
    with common.odoo_env(registry) as env:
        statement_program = common.create_program(env, "Bench statement").id
    cnx = common.connect(args)
    t0 = datetime.date.today() - datetime.timedelta(days=args.statement_entries // 10)
    started = time.perf_counter()
    # one very active member: 10 entries a day
    first, _last, _entries = common.seed_members_and_lots(
        cnx, statement_program, 1, args.statement_entries, t0=f"{t0} 10:00:00", step_days=0.1, expiry_days=3650)
    cnx.close()
    common.log(f"seeded a member with {args.statement_entries:,} entries in {time.perf_counter() - started:.0f} s")
    rng = random.Random(7)
    results, rows = {}, []

    # look-ups
    def find(mobile):
        with common.odoo_env(registry) as env:
            member = env["klodr.member"]._find_by_mobile_or_code(env["klodr.program"].browse(program_id), mobile)
            return member.balance, member.held_points

    raw = common.connect(args, autocommit=True)
    cr = raw.cursor()

    def select_one(_mobile):
        cr.execute("SELECT 1")
        return cr.fetchall()

    mobiles = [common.mobile_number(rng.randrange(args.members)) for _ in range(args.lookups)]
    measured = bench_balance.measure([("SELECT 1 round trip (baseline)", select_one),
                                      ("look-up: _find_by_mobile_or_code + balance + held", find)], mobiles)
    for label, latencies in measured.items():
        results[label] = {"p50_ms": common.percentile(latencies, 0.5), "p99_ms": common.percentile(latencies, 0.99)}
        rows.append([label, f"{results[label]['p50_ms']:.2f}", f"{results[label]['p99_ms']:.2f}", "",
                     "" if "baseline" in label else ("ok" if results[label]["p99_ms"] <= 10 else "SLOW")])

    # earn throughput, interleaved with a raw SQL transaction of the same shape
    with common.odoo_env(registry) as env:
        env.cr.execute("SELECT MIN(id), MAX(id) FROM klodr_member WHERE program_id = %s", [program_id])
        low, high = env.cr.fetchone()
    member_ids = [rng.randint(low, high) for _ in range(args.earns)]
    orm_times, sql_times = [], []
    for number, member_id in enumerate(member_ids):
        started = time.perf_counter()
        with common.odoo_env(registry) as env:
            member = env["klodr.member"].browse(member_id)
            member._earn_order(1000 + number % 500, order_ref=f"SCALE-{os.getpid()}-{number}")
        orm_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        cr.execute("BEGIN")
        cr.execute("UPDATE klodr_member SET points_version = points_version + 1 WHERE id = %s", [member_id])
        cr.execute("COMMIT")
        sql_times.append(time.perf_counter() - started)
    orm_tps, sql_tps = len(orm_times) / sum(orm_times), len(sql_times) / sum(sql_times)
    results["earn"] = {"orm_tps": orm_tps, "raw_sql_tps": sql_tps, "ratio": orm_tps / sql_tps,
                       "p50_ms": common.percentile(sorted(orm_times), 0.5) * 1000,
                       "p99_ms": common.percentile(sorted(orm_times), 0.99) * 1000}
    rows.append(["earn: _earn_order + commit, tx/s (raw SQL UPDATE+commit tx/s)", f"{results['earn']['p50_ms']:.1f}",
                 f"{results['earn']['p99_ms']:.1f}", f"{orm_tps:.0f} ({sql_tps:.0f}; {orm_tps / sql_tps:.2f}x)", ""])

    # statement of the 10,000-entry member
    with common.odoo_env(registry) as env:
        member = env["klodr.member"].browse(first)
        statement, times = timed(member._statement, repeat=3)
        assert len(statement["entries"]) == args.statement_entries
        results["statement_ms"] = times[0]
        rows.append([f"statement: _statement() of {args.statement_entries:,} entries", f"{times[0]:.0f}", "", "", ""])
        report = env.ref("loyalty_klodr.action_report_member_statement", raise_if_not_found=False)
        if report:
            (html, _kind), times = timed(lambda: report._render_qweb_html(report.report_name, member.ids), repeat=2)
            results["statement_html_ms"] = times[0]
            rows.append([f"statement: QWeb HTML of {args.statement_entries:,} entries ({len(html) / 1e6:.1f} MB)",
                         f"{times[0]:.0f}", "", "", ""])
        # analysis views
        for model_name in sorted(name for name in env.registry if name.startswith("klodr.report.")):
            model = env[model_name]
            if model._abstract:
                continue
            groupable = [name for name, field in model._fields.items()
                         if field.store and field.type in ("many2one", "selection", "date", "datetime")
                         and name not in ("create_uid", "write_uid", "create_date", "write_date")]
            if not groupable:
                continue
            groupby = groupable[0] if model._fields[groupable[0]].type not in ("date", "datetime") \
                else f"{groupable[0]}:month"
            env.invalidate_all()
            groups, times = timed(lambda model=model, groupby=groupby: model._read_group([], [groupby], ["__count"]))
            results[f"read_group {model_name}"] = times[0]
            rows.append([f"analysis: {model_name} by {groupby} ({len(groups)} groups)", f"{times[0]:.0f}", "", "", ""])
        _breaks, times = timed(lambda: env["klodr.ledger.entry"]._verify_ledger([statement_program]))
        results["verify_statement_program_ms"] = times[0]
        rows.append([f"verify: _verify_ledger of the {args.statement_entries:,}-entry program (scoped)",
                     f"{times[0]:.0f}", "", "",
                     "ok" if not _breaks else f"{len(_breaks)} BREAKS"])
    raw.close()
    print(f"\nScale: {args.members:,} members, {args.members * args.entries_per_member:,} entries, "
          f"{args.holds:,} holds; {common.code_version(args)}, load average {os.getloadavg()[0]:.2f}")
    common.print_table(["what", "p50 / time ms", "p99 ms", "throughput", "goal"], rows)
    common.save_results("bench_scale", args, {"build_s": build_seconds, "sizes": sizes, "results": results})
    if not args.keep:
        common.drop_database(args)


if __name__ == "__main__":
    main()
