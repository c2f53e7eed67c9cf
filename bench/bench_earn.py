"""Earn throughput through the ORM, one commit per entry, against pgbench's raw rate.

For each client count, pgbench first runs the raw transaction that an earn
boils down to (lock the member row, insert the entry, move the balance and
chain head, commit) on scratch tables of the same database; then as many
Odoo client processes, each with its own cursor and its own members, call
``klodr.ledger.entry._post(member, 'earn', ...)`` and commit, for the same
duration. The ratio ORM/pgbench says what the ORM path costs (goal >= 0.2).
"""
import contextlib
import cProfile
import glob
import io
import multiprocessing
import os
import pstats
import random
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import _common as common

# The raw form of an earn: lock the member, insert the entry (hashed with the
# chain head), move the balance and head, commit. One round trip per statement.
PGBENCH_SCRIPT = r"""
\set id :first + :client_id + :clients * random(0, :per_client - 1)
\set pts random(1, 500)
BEGIN;
SELECT balance, chain_head FROM bench_raw_member WHERE id = :id FOR UPDATE;
INSERT INTO bench_raw_entry (member_id, points, balance_after, idempotency_key, entry_hash, created)
    SELECT id, :pts, balance + :pts, 'pgbench:' || gen_random_uuid(),
           encode(sha256(convert_to(chain_head || ':' || id || ':' || :pts, 'UTF8')), 'hex'),
           now() AT TIME ZONE 'UTC'
      FROM bench_raw_member WHERE id = :id;
UPDATE bench_raw_member
   SET balance = balance + :pts,
       chain_head = encode(sha256(convert_to(chain_head || ':' || id || ':' || :pts, 'UTF8')), 'hex')
 WHERE id = :id;
END;
"""

# Set before the client processes fork, which inherit them.
_REGISTRY = None
_RUN = uuid.uuid4().hex[:8]


def setup(args):
    """Program and members through the ORM; scratch tables for pgbench. Return the member ids."""
    with common.odoo_env(_REGISTRY, {"tracking_disable": True, "mail_create_nolog": True}) as env:
        program = common.create_program(env, "Bench earn")
        members = env["klodr.member"].create([
            {"program_id": program.id, "name": f"Member {i}", "mobile": common.mobile_number(i)}
            for i in range(args.members)
        ])
        member_ids = members.ids
    cnx = common.connect(args, autocommit=True)
    with contextlib.closing(cnx), cnx.cursor() as cr:
        cr.execute("""
            CREATE TABLE bench_raw_member (id int PRIMARY KEY, balance int NOT NULL DEFAULT 0,
                                           chain_head varchar NOT NULL DEFAULT '');
            CREATE TABLE bench_raw_entry (id serial PRIMARY KEY,
                                          member_id int NOT NULL REFERENCES bench_raw_member(id),
                                          points int NOT NULL, balance_after int NOT NULL,
                                          idempotency_key varchar UNIQUE, entry_hash varchar,
                                          created timestamp NOT NULL);
            CREATE INDEX ON bench_raw_entry (member_id, id);
            INSERT INTO bench_raw_member (id) SELECT generate_series(1, %s);
        """, [args.members])
    return member_ids


def post_earn(member_id, client, number, context=None):
    """One earn in its own transaction, committed when the cursor closes.

    ``client`` names the run and the client, so that idempotency keys never repeat.
    """
    with common.odoo_env(_REGISTRY, context) as env:
        member = env["klodr.member"].browse(member_id)
        env["klodr.ledger.entry"]._post(
            member, "earn", random.randint(1, 500), idempotency_key=f"bench:{_RUN}:{client}:{number}",
            source_ref=f"BENCH-{client}-{number}")


def orm_client(client, member_ids, seconds, start_at, context):
    """Post earns on this client's own members until the time is up; return latencies (s)."""
    random.seed(client)
    while time.time() < start_at:  # start together with the other clients
        time.sleep(0.001)
    latencies, errors = [], []
    deadline = time.perf_counter() + seconds
    number = 0
    while time.perf_counter() < deadline:
        number += 1
        started = time.perf_counter()
        try:
            post_earn(random.choice(member_ids), client, number, context)
        except Exception as exc:  # a failed transaction is counted, not fatal
            errors.append(f"{type(exc).__name__}: {exc}")
            if len(errors) > 100:  # broken, not slow: stop measuring
                break
            continue
        latencies.append(time.perf_counter() - started)
    return latencies, errors


def run_orm(member_ids, clients, seconds, context, tag):
    """``clients`` processes posting earns for ``seconds``; return (latencies, errors)."""
    import odoo  # noqa: PLC0415

    # Children must open their own connections, not share the parent's sockets.
    odoo.sql_db.close_all()
    shares = [member_ids[i::clients] for i in range(clients)]
    start_at = time.time() + 0.5
    forking = multiprocessing.get_context("fork")
    with forking.Pool(clients) as pool:
        results = pool.starmap(orm_client, [
            (f"{tag}{c}", shares[c], seconds, start_at, context) for c in range(clients)])
    return ([lat for latencies, _errors in results for lat in latencies],
            [error for _latencies, errors in results for error in errors])


def run_pgbench(args, clients, seconds, pgbench):
    """pgbench's raw earn for ``seconds``; return (transactions, average latency in ms)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "earn.sql"
        script.write_text(PGBENCH_SCRIPT)
        command = [
            pgbench, "-n", "-h", args.db_host, "-p", str(args.db_port), "-U", args.db_user,
            "-c", str(clients), "-j", str(clients), "-T", str(seconds), "-f", str(script),
            "-D", "first=1", "-D", f"clients={clients}", "-D", f"per_client={args.members // clients}",
            args.db,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    transactions = int(re.search(r"actually processed: (\d+)", result.stdout).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", result.stdout).group(1))
    return transactions, latency


def queries_per_earn(member_id):
    with common.odoo_env(_REGISTRY) as env:
        before = env.cr.sql_log_count
        member = env["klodr.member"].browse(member_id)
        env["klodr.ledger.entry"]._post(member, "earn", 10, idempotency_key=f"bench:{_RUN}:count")
        return env.cr.sql_log_count - before


def profile_earns(member_ids, count=500):
    profiler = cProfile.Profile()
    profiler.enable()
    for number in range(count):
        post_earn(member_ids[number % len(member_ids)], "profile", number)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print(out.getvalue())


def main():
    global _REGISTRY  # noqa: PLW0603 - the forked clients read it
    parser = common.make_parser(__doc__.splitlines()[0], "klodr_bench_earn")
    parser.add_argument("--seconds", type=int, default=20,
                        help="time measured per path and client count (default: %(default)s)")
    parser.add_argument("--round-seconds", type=int, default=5,
                        help="paths take turns for this long (default: %(default)s)")
    parser.add_argument("--members", type=int, default=200, help="members to spread earns over")
    parser.add_argument("--clients", default="1,2", help="client counts to run, comma-separated")
    parser.add_argument("--profile", action="store_true", help="then cProfile 500 earns in one client")
    args = common.parse_args(parser)
    # Debian keeps pgbench off PATH, beside the server binaries.
    pgbench = shutil.which("pgbench") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))), None)
    if not pgbench:
        raise SystemExit("pgbench not found: install postgresql-contrib (Debian: postgresql-client)")

    common.create_database(args)
    _REGISTRY = common.load_registry(args)
    member_ids = setup(args)
    # Warm the ORM's caches (parsed domains, field metadata) before the clock runs.
    for number in range(50):
        post_earn(member_ids[number % len(member_ids)], "warmup", number)
    queries = queries_per_earn(member_ids[0])

    # The brief's empty context, and the context an HTTP request carries (the
    # user's tz and lang), which spares _post reading the user to find a tz.
    variants = {"ORM _post, context {}": {}, "ORM _post, context tz+lang": {"tz": "Asia/Kolkata", "lang": "en_US"}}
    rounds = max(int(args.seconds // args.round_seconds), 1)
    rows, results = [], []
    for clients in [int(c) for c in args.clients.split(",")]:
        common.log(f"{clients} client(s): {rounds} round(s) of pgbench then each ORM variant, "
                   f"{args.round_seconds} s each ...")
        # Rounds interleave the paths, so that load from elsewhere on the
        # machine weighs on all of them alike.
        raw_count, raw_latency = 0, 0.0
        measured = {label: ([], []) for label in variants}
        for number in range(rounds):
            count, latency = run_pgbench(args, clients, args.round_seconds, pgbench)
            raw_count += count
            raw_latency += latency / rounds
            for index, (label, context) in enumerate(variants.items()):
                latencies, errors = run_orm(member_ids, clients, args.round_seconds, context,
                                            f"{clients}:{number}:{index}:")
                measured[label][0].extend(latencies)
                measured[label][1].extend(errors)
        duration = rounds * args.round_seconds
        raw_rate = raw_count / duration
        run = {"clients": clients, "seconds": duration, "pgbench": {"rate": raw_rate, "latency_avg_ms": raw_latency}}
        rows.append([clients, "pgbench raw transaction", f"{raw_rate:.0f}", f"{raw_latency:.2f} (avg)", "", "",
                     "1.00", ""])
        for label, (latencies, errors) in measured.items():
            latencies.sort()
            rate = len(latencies) / duration
            run[label] = orm = {
                "rate": rate, "ratio": rate / raw_rate, "errors": len(errors), "first_error": errors[:1],
                "p50_ms": common.percentile(latencies, 0.50) * 1000,
                "p99_ms": common.percentile(latencies, 0.99) * 1000,
            }
            rows.append([clients, label, f"{rate:.0f}", f"{orm['p50_ms']:.2f}", f"{orm['p99_ms']:.2f}",
                         len(errors), f"{orm['ratio']:.2f}", "ok" if orm["ratio"] >= 0.2 else "BELOW"])
            if errors:
                common.log(f"{label}: first error: {errors[0]}")
        results.append(run)

    print(f"\nEarn throughput, one commit per entry, {rounds} x {args.round_seconds} s per path, "
          f"{args.members} members, {common.code_version(args)}, load average {os.getloadavg()[0]:.2f}; "
          f"_post runs {queries} SQL statements per earn, plus the commit")
    common.print_table(["clients", "path", "tx/s", "p50 ms", "p99 ms", "errors", "vs pgbench", "goal >= 0.2"],
                       rows)
    common.save_results("bench_earn", args, {"queries_per_earn": queries, "runs": results})
    if args.profile:
        profile_earns(member_ids)
    if not args.keep:
        common.drop_database(args)


if __name__ == "__main__":
    main()
