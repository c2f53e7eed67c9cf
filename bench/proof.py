"""The proof run: random API load on several Odoo servers with workers, with and without faults.

Installs the four addons with demo data into a fresh database, starts ``--servers`` Odoo
processes (separate ports, ``--workers`` HTTP workers each, as separate machines would run
them) on that one PostgreSQL, then:

1. one-server: ``--clients`` clients do ``--operations`` random operations (enroll, earn,
   refund, redeem with the OTP read from the SMS queue, cancel, events, look-ups) on
   ``--members`` members across ``--stores`` stores, against the first server alone;
2. two-servers: the same, the clients spreading their requests over every server;
3. faults: the same as 2. while a random HTTP worker (one in the middle of a request when there
   is one) is killed with SIGKILL ``--kills`` times and every database connection of the
   database is terminated ``--drops`` times (what a PostgreSQL restart does to its clients),
   both spread evenly over the operations (or every ``--kill-every`` / ``--drop-every`` seconds
   if given); with ``--pg-restart`` PostgreSQL itself is restarted once in the middle (it stops
   every other database on the machine too: off by default).

Each phase has a program, stores, API key and members of its own, in the one database.
Bounded: a phase stops at ``--time-limit`` seconds even if its operations are not all done
(the figures then say how many were).

After each phase: ``_verify_ledger`` clean, the points the API reported equal the ledger for
every member, nobody below zero except through refunds, no order, earn, redemption or give-back
counted twice, no request left unanswered, no 5xx. Prints the figures (operations/s, p50/p99
per operation, retries, kills) and exits non-zero if anything failed.
"""
import contextlib
import os
import subprocess
import sys
import time
import uuid

import _common as common

sys.path.insert(0, str(common.REPO_DIR / "tests"))
import proof_lib  # noqa: E402

ADDONS = "loyalty_klodr,loyalty_klodr_sms,loyalty_klodr_pos,loyalty_klodr_gst"


def restart_postgresql():
    clusters = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout.split()
    if len(clusters) < 2:
        common.log("  pg_lsclusters found no cluster: PostgreSQL not restarted")
        return False
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", clusters[0], clusters[1], "restart"], check=False)
    return True


def database_exists(args):
    with contextlib.closing(common.connect(args, "postgres", autocommit=True)) as cnx, cnx.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db])
        return bool(cr.fetchone())


def phase(name, args, registry, servers, faults_on):
    with common.odoo_env(registry) as env:
        world = proof_lib.build_world(env, uuid.uuid4().hex[:8], stores=args.stores)

    def cnx_factory(db=None):
        return common.connect(args, db or args.db, autocommit=True)

    load = proof_lib.LoadRun([s.base for s in servers], world, cnx_factory, clients=args.clients,
                             operations=args.operations, members=args.members, seed=args.seed,
                             time_limit=args.time_limit)
    faults = None
    if faults_on:
        spread = args.kill_every is None and args.drop_every is None
        faults = proof_lib.Faults(servers, cnx_factory, args.db, kill_every=args.kill_every, max_kills=args.kills,
                                  drop_every=args.drop_every, max_drops=args.drops, load=load if spread else None)
        faults.start()
    restarted = False
    if faults_on and args.pg_restart:
        def later():
            nonlocal restarted
            time.sleep(args.time_limit / 4 if args.time_limit else 30)
            restarted = restart_postgresql()
        import threading  # noqa: PLC0415
        threading.Thread(target=later, daemon=True).start()
    common.log(f"{name}: {args.clients} clients, {args.operations:,} operations, {args.members} members, "
               f"{args.stores} stores, {len(servers)} server(s) x {args.workers} workers, load average "
               f"{os.getloadavg()[0]:.1f} ...")
    load_before = os.getloadavg()[0]
    seconds = load.run()
    load_after = os.getloadavg()[0]
    if faults:
        faults.stop()
    with common.odoo_env(registry) as env:
        findings = proof_lib.check(env, load)
    stats = load.stats
    by_operation = {}
    for (operation, outcome), count in sorted(stats.outcomes.items()):
        by_operation.setdefault(operation, {})[outcome] = count
    rows = []
    for operation, latencies in sorted(stats.latencies.items()):
        latencies = sorted(latencies)
        rows.append([operation, len(latencies), f"{proof_lib.percentile(latencies, 0.5) * 1000:.0f}",
                     f"{proof_lib.percentile(latencies, 0.99) * 1000:.0f}",
                     ", ".join(f"{k}: {v}" for k, v in by_operation.get(operation, {}).items())])
    requests_answered = sum(len(v) for v in stats.latencies.values())
    print(f"\n{name}: {load.done:,} operations ({requests_answered:,} requests answered) in {seconds:.1f} s "
          f"= {load.done / seconds:.1f} ops/s; {stats.retries} retries"
          + (f" ({len(stats.not_api)} after an answer that was not the API's: {'; '.join(stats.not_api[:3])})"
             if stats.not_api else "")
          + (f"; {faults.kills} workers killed ({faults.busy_kills} in the middle of a request), "
             f"{faults.drops} connection drops" if faults else "")
          + ("; PostgreSQL restarted" if restarted else "")
          + f"; load average {load_before:.1f} before, {load_after:.1f} after")
    common.print_table(["operation", "answers", "p50 ms", "p99 ms", "outcomes"], rows)
    failed = proof_lib.failures(findings)
    print("checks: " + ("all hold" if not failed else "FAILED"))
    for check_name, items in findings.items():
        print(f"  {check_name}: {'ok' if not items else f'{len(items)} -- ' + '; '.join(map(str, items[:5]))}")
    return {"phase": name, "servers": len(servers), "operations": load.done, "requests": requests_answered,
            "seconds": seconds, "ops_per_s": load.done / seconds, "load_average": [load_before, load_after],
            "retries": stats.retries, "not_api": list(stats.not_api), "kills": faults.kills if faults else 0,
            "busy_kills": faults.busy_kills if faults else 0, "drops": faults.drops if faults else 0,
            "pg_restarted": restarted, "outcomes": {f"{k[0]} {k[1]}": v for k, v in stats.outcomes.items()},
            "failed": {k: [str(i) for i in v] for k, v in failed.items()}}


def main():
    parser = common.make_parser(__doc__.splitlines()[0], "klodr_bench_proof")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--operations", type=int, default=10_000, help="per phase")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--stores", type=int, default=4)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="HTTP workers per server")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--kill-every", type=float, default=None,
                        help="seconds between worker kills (default: spread over the operations)")
    parser.add_argument("--drops", type=int, default=5, help="times every database connection is terminated")
    parser.add_argument("--drop-every", type=float, default=None,
                        help="seconds between drops (default: spread over the operations)")
    parser.add_argument("--pg-restart", action="store_true", help="also restart PostgreSQL once (all databases!)")
    parser.add_argument("--phases", default="one-server,two-servers,faults")
    parser.add_argument("--time-limit", type=float, default=1500, help="seconds per phase, at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true",
                        help="use --db as it is if it exists (the addons installed, with demo data) instead of "
                             "installing afresh; every phase works in a program of its own anyway")
    args = common.parse_args(parser)
    # run from an export (scripts/proof with PROOF_REF): no git there, the exporter names the commit
    args.commit = args.commit or os.environ.get("KLODR_PROOF_COMMIT") or None
    common.log(f"code: {common.code_version(args)}, addons path {args.addons_path}")
    if not (args.reuse and database_exists(args)):
        common.create_database(args, ADDONS, demo=True)
    registry = common.load_registry(args)
    db_args = ["--db_host", args.db_host, "--db_port", str(args.db_port), "--db_user", args.db_user]
    servers = []
    results = []
    try:
        for number in range(args.servers):
            servers.append(proof_lib.OdooServer(args.db, args.addons_path, workers=args.workers, db_args=db_args,
                                                name=f"bench{number}").start())
        common.log("servers: " + ", ".join(f"{s.base} (workers {s.worker_pids()})" for s in servers))
        for name in args.phases.split(","):
            if name not in ("one-server", "two-servers", "faults"):
                raise SystemExit(f"unknown phase {name}")
            results.append(phase(name, args, registry, servers[:1] if name == "one-server" else servers,
                                 faults_on=(name == "faults")))
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                server.stop()
    common.save_results("proof", args, results)
    if not args.keep:
        common.drop_database(args)
    if any(r["failed"] for r in results):
        raise SystemExit("the proof found a break (above)")


if __name__ == "__main__":
    main()
