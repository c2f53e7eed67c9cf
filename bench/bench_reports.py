"""Analysis read_group times with 1,000,000 members and 10,000,000 entries, and a 10,000-entry statement.

Seeds members and earn lots straight in SQL (valid hash chains), then, also in SQL, what the
other analyses read: three tiers spread over the members, one purchase of two category lines
in the last 90 days for every other member, a tier change per member, stores on the purchases;
then ANALYZE. Times, in a fresh cursor each run as an HTTP request has, the ``_read_group``
calls the analysis views make (pivot of sales and redemption by store and month over 12 months,
points expiring by month, new/active/lapsed members, buying pattern by category, tier movements
and distribution), the nightly refresh of the summed (materialized) ones, the dashboard's
figures, and the statement of one member with ``--statement-entries`` (10,000) entries: its
numbers, its HTML and (``--pdf``) its PDF.
Baseline in the same run: a full scan of the ledger (``SELECT COUNT(*), SUM(points)``).
"""
import contextlib
import datetime
import os
import statistics
import time

import _common as common

CATEGORIES = ("Books", "Stationery", "Toys", "Music", "Gifts")


def seed_related(cnx, program_id, first_member, last_member):
    """Tiers, stores, purchases with lines and tier changes for the seeded members, in SQL."""
    with cnx.cursor() as cr:
        replica = common.is_superuser(cr)
        if replica:
            cr.execute("SET LOCAL session_replication_role = replica")
        cr.execute("SET LOCAL work_mem = '512MB'")
        cr.execute("SELECT company_id FROM klodr_program WHERE id = %s", [program_id])
        company_id = cr.fetchone()[0]
        cr.execute(
            """INSERT INTO klodr_tier (name, program_id, company_id, sequence, threshold_points, threshold_amount,
                                       multiplier, active, color)
               VALUES ('{"en_US": "Bronze"}', %(p)s, %(c)s, 10, 0, 0, 1, TRUE, '#cd7f32'),
                      ('{"en_US": "Silver"}', %(p)s, %(c)s, 20, 1000, 0, 1.25, TRUE, '#c0c0c0'),
                      ('{"en_US": "Gold"}', %(p)s, %(c)s, 30, 5000, 0, 1.5, TRUE, '#ffd700')
               RETURNING id""", {"p": program_id, "c": company_id})
        tiers = [row[0] for row in cr.fetchall()]
        cr.execute("""UPDATE klodr_member SET tier_id = (%s::int[])[1 + id %% 3]
                       WHERE id BETWEEN %s AND %s""", [tiers, first_member, last_member])
        cr.execute(
            """INSERT INTO klodr_tier_history (member_id, company_id, date, from_tier_id, to_tier_id, window_points)
               SELECT id, company_id, now() AT TIME ZONE 'UTC' - (id %% 365) * interval '1 day', NULL, tier_id, balance
                 FROM klodr_member WHERE id BETWEEN %s AND %s""", [first_member, last_member])
        cr.execute(
            """INSERT INTO klodr_store (name, code, company_id, active)
               SELECT 'Store ' || n, 'BENCH-' || n, %s, TRUE FROM generate_series(1, 50) n RETURNING id""",
            [company_id])
        stores = [row[0] for row in cr.fetchall()]
        cr.execute(
            """INSERT INTO product_category (name, complete_name, parent_path)
               SELECT name, name, '' FROM unnest(%s::varchar[]) AS name RETURNING id""", [list(CATEGORIES)])
        categories = [row[0] for row in cr.fetchall()]
        cr.execute("UPDATE product_category SET parent_path = id || '/' WHERE id = ANY(%s)", [categories])
        cr.execute(
            """INSERT INTO klodr_transaction (program_id, company_id, member_id, order_ref, amount, date, store_id,
                                              points_earned, refunded_amount, points_reversed,
                                              create_uid, write_uid, create_date, write_date)
               SELECT %(p)s, %(c)s, id, 'BENCH-' || id, 100 + (id %% 50) * 20,
                      now() AT TIME ZONE 'UTC' - (id %% 90) * interval '1 day', (%(stores)s::int[])[1 + id %% 50],
                      10 + id %% 50, 0, 0, 1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                 FROM klodr_member WHERE id BETWEEN %(first)s AND %(last)s AND id %% 2 = 0""",
            {"p": program_id, "c": company_id, "stores": stores, "first": first_member, "last": last_member})
        cr.execute(
            """INSERT INTO klodr_transaction_line (transaction_id, company_id, product_ref, category_id, quantity,
                                                   amount)
               SELECT t.id, t.company_id, 'SKU-' || k, (%s::int[])[1 + (t.id + k) %% 5], 1, t.amount / 2
                 FROM klodr_transaction t CROSS JOIN generate_series(0, 1) k WHERE t.program_id = %s""",
            [categories, program_id])
    cnx.commit()


def build(args):
    """Install, seed, analyze; return (program id, statement member id, seconds, sizes)."""
    common.create_database(args)
    registry = common.load_registry(args)
    with common.odoo_env(registry) as env:
        program_id = common.create_program(env, "Bench reports").id
        statement_program_id = common.create_program(env, "Bench statement").id
    started = time.perf_counter()
    t0 = datetime.date.today() - datetime.timedelta(days=30 * args.entries_per_member)
    cnx = common.connect(args)
    try:
        first, last, _entries = common.seed_members_and_lots(
            cnx, program_id, args.members, args.entries_per_member, t0=f"{t0} 10:00:00", step_days=30,
            expiry_days=730, chunk=100_000)
        seed_related(cnx, program_id, first, last)
        # One member with a long history: an entry every hour up to now.
        hours = args.statement_entries
        start = datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(hours=hours)
        statement_member, _last, _n = common.seed_members_and_lots(
            cnx, statement_program_id, 1, hours, t0=f"{start}", step_days=1 / 24, expiry_days=3650, chunk=1)
        cnx.autocommit = True
        with cnx.cursor() as cr:
            cr.execute("VACUUM ANALYZE")
            cr.execute("""SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class
                           WHERE relname IN ('klodr_member', 'klodr_ledger_entry', 'klodr_transaction',
                                             'klodr_transaction_line') ORDER BY relname""")
            sizes = dict(cr.fetchall())
    finally:
        cnx.close()
    return program_id, statement_member, time.perf_counter() - started, sizes


def timed(registry, function, runs):
    """Seconds of each of ``runs`` calls of ``function(env)``, each in a fresh cursor; and the last result."""
    seconds, result = [], None
    for _run in range(runs):
        with common.odoo_env(registry, {"tz": "UTC", "lang": "en_US"}) as env:
            started = time.perf_counter()
            result = function(env)
            seconds.append(time.perf_counter() - started)
    return seconds, result


def main():
    parser = common.make_parser(__doc__.splitlines()[0], "klodr_bench_reports")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries-per-member", type=int, default=10)
    parser.add_argument("--statement-entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each call (the median is shown)")
    parser.add_argument("--pdf", action="store_true", help="also render the statement's PDF (wkhtmltopdf)")
    args = common.parse_args(parser)
    needed_gb = 3 + args.members * args.entries_per_member * 1.2e-6
    if common.free_disk_gb() < needed_gb:
        raise SystemExit(f"only {common.free_disk_gb():.0f} GB free; this needs about {needed_gb:.0f}")

    program_id, statement_member_id, build_seconds, sizes = build(args)
    common.log(f"seeded {args.members:,} members, {args.members * args.entries_per_member:,} entries and "
               f"{args.members // 2:,} purchases in {build_seconds:.0f} s ({sizes})")
    registry = common.load_registry(args)
    today = datetime.date.today()
    year_ago = datetime.datetime.now() - datetime.timedelta(days=365)
    in_program = [("program_id", "=", program_id)]

    def read_group(model, domain, groupby, aggregates):
        return lambda env: env[model]._read_group(in_program + domain, groupby, aggregates)

    def full_scan(env):
        env.cr.execute("SELECT COUNT(*), SUM(points) FROM klodr_ledger_entry WHERE program_id = %s", [program_id])
        return env.cr.fetchall()

    def dashboard(env):
        program = env["klodr.program"].browse(program_id)
        return (program.dashboard_member_count, program.dashboard_active_count, program.dashboard_redemption_rate,
                program.dashboard_tier_summary, program.dashboard_top_reward_ids.ids)

    def statement(env):
        member = env["klodr.member"].browse(statement_member_id)
        values = env["report.loyalty_klodr.report_member_statement"]._statement_values(member)
        return len(values["lines"]), values["closing_balance"]

    def statement_html(env):
        html = env["ir.actions.report"]._render_qweb_html(
            "loyalty_klodr.report_member_statement", [statement_member_id], data={})[0]
        return len(html)

    def statement_pdf(env):
        pdf = env["ir.actions.report"].with_context(force_report_rendering=True)._render_qweb_pdf(
            "loyalty_klodr.report_member_statement", [statement_member_id], data={})[0]
        return len(pdf)

    def refresh(env):
        env["klodr.report.activity"]._refresh_reports()
        env.cr.execute("SELECT (SELECT COUNT(*) FROM klodr_report_activity), "
                       "(SELECT COUNT(*) FROM klodr_report_expiry)")
        return env.cr.fetchone()

    calls = [
        ("baseline: SQL full scan of the program's ledger", full_scan),
        ("refresh of the summed analyses (nightly)", refresh),
        ("sales and redemption, store x month, 12 months",
         read_group("klodr.report.activity", [("date", ">=", year_ago)], ["store_id", "date:month"],
                    ["sales_amount:sum", "points_issued:sum", "points_redeemed:sum", "discount_amount:sum",
                     "redemption_rate:avg"])),
        ("sales and redemption, tier, last month",
         read_group("klodr.report.activity", [("date", ">=", datetime.datetime.now() - datetime.timedelta(days=30))],
                    ["tier_id"], ["sales_amount:sum", "points_issued:sum", "redemption_rate:avg"])),
        ("points expiring by month, from today",
         read_group("klodr.report.expiry", [("expiry_date", ">=", today)], ["expiry_date:month"],
                    ["points:sum", "value:sum"])),
        ("points expiring, next 3 months",
         read_group("klodr.report.expiry", [("expiry_date", ">=", today),
                                            ("expiry_date", "<", today + datetime.timedelta(days=92))],
                    ["expiry_date:month"], ["points:sum"])),
        ("members new / active / lapsed",
         read_group("klodr.report.member", [("state", "=", "active")], ["status"], ["__count"])),
        ("members by tier and status",
         read_group("klodr.report.member", [], ["tier_id", "status"], ["member_count:sum", "active_count:sum"])),
        ("buying pattern by category, 12 months",
         read_group("klodr.report.category", [("date", ">=", year_ago)], ["category"],
                    ["amount:sum", "transaction_id:count_distinct", "average_basket:avg", "recency_days:min"])),
        ("tier movements by month and direction",
         read_group("klodr.report.tier.movement", [], ["date:month", "direction"], ["__count"])),
        ("tier distribution (members by tier)",
         read_group("klodr.member", [("state", "=", "active")], ["tier_id"], ["__count"])),
        ("dashboard figures of the program", dashboard),
        (f"statement numbers, {args.statement_entries:,} entries", statement),
        (f"statement HTML, {args.statement_entries:,} entries", statement_html),
    ]
    if args.pdf:
        calls.append((f"statement PDF, {args.statement_entries:,} entries", statement_pdf))

    # Warm up the registry (rules, access rights, field caches) outside the timings.
    timed(registry, read_group("klodr.report.activity", [("id", "=", 0)], [], ["__count"]), 1)
    rows, results = [], {}
    baseline = None
    for label, function in calls:
        common.log(f"timing: {label} ...")
        seconds, result = timed(registry, function, 1 if "PDF" in label or "refresh" in label else args.runs)
        median = statistics.median(seconds)
        baseline = baseline if baseline is not None else median
        results[label] = {"seconds": seconds, "median_s": median}
        rows.append([label, f"{median:.3f}", f"{min(seconds):.3f}", f"{max(seconds):.3f}",
                     f"{median / baseline:.1f}" if baseline else ""])
        common.log(f"  {median:.3f} s (result: {str(result)[:80]})")

    with contextlib.closing(common.connect(args)) as cnx, cnx.cursor() as cr:
        cr.execute("""EXPLAIN (ANALYZE, COSTS OFF)
                      SELECT date_trunc('month', expiry_date), SUM(points) FROM klodr_report_expiry
                       WHERE program_id = %s AND expiry_date >= %s GROUP BY 1""", [program_id, today])
        plan = "\n".join(f"    {row[0]}" for row in cr.fetchall())

    print(f"\nAnalyses: {args.members:,} members, {args.members * args.entries_per_member:,} entries, "
          f"{args.members // 2:,} purchases ({args.members:,} lines); {common.code_version(args)}, "
          f"load average {os.getloadavg()[0]:.2f}; median of {args.runs} runs, fresh cursor each")
    common.print_table(["call", "median s", "min s", "max s", "x full scan"], rows)
    print(f"plan of the expiry analysis:\n{plan}")
    common.save_results("bench_reports", args, {"build_s": build_seconds, "sizes": sizes, "calls": results})
    if not args.keep:
        common.drop_database(args)


if __name__ == "__main__":
    main()
