"""Plumbing shared by the benchmarks: arguments, database, Odoo environment, output.

Each benchmark owns a database that it drops and recreates, installs
``loyalty_klodr`` into (no demo data) in a separate ``odoo`` process, then
drives in-process through the registry.
"""
import argparse
import contextlib
import datetime
import getpass
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
GENESIS = "0" * 64


def default_addons_path():
    """Odoo's own addons plus this repository (odoo/addons is always added by Odoo)."""
    paths = [str(REPO_DIR)]
    try:
        import odoo  # noqa: PLC0415

        community = Path(list(odoo.__path__)[0]).parent / "addons"
        if community.is_dir():
            paths.insert(0, str(community))
    except ImportError:
        pass
    return ",".join(paths)


def make_parser(description, default_db):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", default=default_db, help="database to (re)create (default: %(default)s)")
    parser.add_argument("--addons-path", default=None, help="Odoo addons path (default: Odoo's + this repo)")
    parser.add_argument("--db-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--db-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--db-user", default=os.environ.get("PGUSER", getpass.getuser()))
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument("--ref", help="bench the addons as committed at this git ref (e.g. HEAD) "
                                      "instead of the working tree, which others may be editing")
    return parser


def parse_args(parser):
    args = parser.parse_args()
    args.commit = None
    if args.ref:
        args.commit, snapshot = export_ref(args.ref)
        args.addons_path = ",".join(
            [snapshot] + [p for p in (args.addons_path or default_addons_path()).split(",")
                          if Path(p).resolve() != REPO_DIR])
    args.addons_path = args.addons_path or default_addons_path()
    return args


def export_ref(ref):
    """Extract the repository at ``ref`` into a temporary folder; return (commit, folder)."""
    commit = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    folder = Path(tempfile.gettempdir()) / f"klodr-bench-{commit[:12]}"
    if not folder.is_dir():
        partial = Path(tempfile.mkdtemp(prefix="klodr-bench-"))
        archive = subprocess.run(["git", "-C", str(REPO_DIR), "archive", commit], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive.stdout, check=True)
        try:
            partial.rename(folder)
        except OSError:  # another run exported the same commit meanwhile
            shutil.rmtree(partial)
    return commit, str(folder)


def connect(args, dbname=None, autocommit=False):
    cnx = psycopg2.connect(dbname=dbname or args.db, host=args.db_host, port=args.db_port, user=args.db_user)
    cnx.autocommit = autocommit
    return cnx


def drop_database(args, name=None, drop=True):
    """Drop ``name`` (default ``args.db``) after closing this process's connections to it."""
    if "odoo.sql_db" in sys.modules:  # Odoo loaded here: let go of its registry and connections
        from odoo.modules.registry import Registry  # noqa: PLC0415

        Registry.delete(name or args.db)
        sys.modules["odoo.sql_db"].close_db(name or args.db)
    if not drop:
        return
    with contextlib.closing(connect(args, "postgres", autocommit=True)) as cnx, cnx.cursor() as cr:
        # Another run of a benchmark on the same machine may be using it: never pull it from under
        # them. Our own client processes that just ended may take a moment to disconnect.
        for _attempt in range(25):
            cr.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                       [name or args.db])
            if not cr.fetchone()[0]:
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"database {name or args.db} is in use by other connections (another benchmark "
                             "run?): pass --db with another name, or end that run first")
        cr.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name or args.db)))


def odoo_options(args, db=None):
    return ["-d", db or args.db, "--addons-path", args.addons_path, "--db_host", args.db_host,
            "--db_port", str(args.db_port), "--db_user", args.db_user, "--http-interface", "127.0.0.1",
            "--log-level", "warn"]


def create_database(args, modules="loyalty_klodr", demo=False):
    """Drop ``args.db`` and install ``modules`` into a fresh one (no demo data unless ``demo``)."""
    drop_database(args)
    log(f"installing {modules} into {args.db} ...")
    started = time.perf_counter()
    # A separate process: installation is not what we measure, and its
    # registry and logging setup must not leak into ours.
    result = subprocess.run(
        [sys.executable, "-m", "odoo", *odoo_options(args), "-i", modules, "--stop-after-init",
         *(["--with-demo"] if demo else [])],
        capture_output=True, text=True, check=False)
    # Odoo's log lines read "<date> <time> <pid> <LEVEL> <db> ...".
    if result.returncode or re.search(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", result.stderr, re.MULTILINE):
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"installation into {args.db} failed (exit {result.returncode})")
    log(f"installed in {time.perf_counter() - started:.0f} s")


def load_registry(args, db=None):
    """The Odoo registry of ``db`` (default ``args.db``), in this process."""
    import odoo  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(odoo_options(args, db))
    return Registry(db or args.db)


def clone_database(args, source, target):
    """Copy database ``source`` to ``target`` (dropped first); nobody may be connected to ``source``."""
    drop_database(args, source, drop=False)
    drop_database(args, target)
    with contextlib.closing(connect(args, "postgres", autocommit=True)) as cnx, cnx.cursor() as cr:
        cr.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(target), sql.Identifier(source)))


@contextlib.contextmanager
def odoo_env(registry, context=None):
    """A superuser environment on a new cursor, committed when the block ends."""
    import odoo  # noqa: PLC0415

    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, context or {})


def create_program(env, name="Bench", expiry_policy="months", expiry_months=12):
    return env["klodr.program"].create({
        "name": name, "expiry_policy": expiry_policy, "expiry_months": expiry_months,
    })


def mobile_number(index):
    """A valid Indian mobile in E.164 for 0 <= index < 10**8 (+9198 numbers all parse as mobiles)."""
    return f"+9198{index:08d}"


# The JSON that loyalty_klodr/tools/hashing.py:entry_hash() hashes, for an earn
# lot with no idempotency key, source or store; sha256 of it is the entry hash.
_HASH_FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION pg_temp.bench_earn_hash(prev text, program int, member int, points int, balance int,
                                        at timestamp, expiry date) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(format(
        '["%s",%s,%s,"earn",%s,%s,"%s","%s",null,null,null,null,null]',
        prev, program, member, points, balance,
        to_char(at, 'YYYY-MM-DD HH24:MI:SS'), to_char(expiry, 'YYYY-MM-DD')), 'UTF8')), 'hex')
$$;
"""

# One row per lot, each member's chain walked one level per recursion step.
# Points of lot k of member m are a fixed pseudo-random 1..500.
_SEED_SQL = """
CREATE TEMP TABLE bench_seed ON COMMIT DROP AS
WITH RECURSIVE c(member_id, k, points, balance_after, prev_hash, entry_hash) AS (
    SELECT m, 0, p, p, %(genesis)s::text,
           pg_temp.bench_earn_hash(%(genesis)s, %(program)s, m, p, p, %(t0)s::timestamp,
                                   %(t0)s::date + %(expiry_days)s)
      FROM (SELECT m, 1 + ((m::bigint * 7919) %% 500)::int AS p FROM generate_series(%(first)s, %(last)s) AS m) s
    UNION ALL
    SELECT c.member_id, c.k + 1, n.p, c.balance_after + n.p, c.entry_hash,
           pg_temp.bench_earn_hash(c.entry_hash, %(program)s, c.member_id, n.p, c.balance_after + n.p,
                                   %(t0)s::timestamp + (c.k + 1) * %(step)s::interval,
                                   (%(t0)s::timestamp + (c.k + 1) * %(step)s::interval)::date
                                   + %(expiry_days)s)
      FROM c CROSS JOIN LATERAL (SELECT 1 + ((c.member_id::bigint * 7919 + (c.k + 1) * 104729) %% 500)::int AS p) n
     WHERE c.k + 1 < %(lots)s
)
SELECT * FROM c
"""


def is_superuser(cr):
    cr.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    return cr.fetchone()[0]


def seed_members_and_lots(cnx, program_id, members, lots_per_member, *, t0, step_days, expiry_days,
                          chunk=100_000):
    """Insert ``members`` members of a program with ``lots_per_member`` earn lots each, fast.

    Entirely in SQL: a recursive CTE walks each member's hash chain (one level
    per lot) hashing exactly what ``entry_hash`` hashes, ids are chosen so
    that they ascend along each chain, and members are inserted with the
    balance and chain head of their last lot, so ``_verify_ledger`` finds
    the ledger whole. Lot k is dated ``t0 + k * step_days`` and expires
    ``expiry_days`` after that day. Foreign-key triggers are skipped when we
    are superuser (the rows are consistent by construction). Member i has
    mobile ``mobile_number(i)`` and code ``B<i>``. Commits per chunk.

    :return: (first member id, last member id, entries inserted)
    """
    with cnx.cursor() as cr:
        replica = is_superuser(cr)
        cr.execute("SELECT company_id FROM klodr_program WHERE id = %s", [program_id])
        company_id = cr.fetchone()[0]
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM klodr_member")
        first_member = cr.fetchone()[0] + 1
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM klodr_ledger_entry")
        first_entry = cr.fetchone()[0] + 1
        cr.execute(_HASH_FUNCTION_SQL)
        cnx.commit()
        entries = 0
        for start in range(0, members, chunk):
            stop = min(start + chunk, members)
            if replica:
                cr.execute("SET LOCAL session_replication_role = replica")
            cr.execute("SET LOCAL work_mem = '512MB'")
            params = {
                "genesis": GENESIS, "program": program_id, "company": company_id,
                "first": first_member + start, "last": first_member + stop - 1,
                "first_member": first_member, "first_entry": first_entry, "lots": lots_per_member,
                "t0": t0, "step": f"{step_days} days", "expiry_days": expiry_days,
            }
            cr.execute(_SEED_SQL, params)
            cr.execute(
                """INSERT INTO klodr_member (id, program_id, company_id, name, mobile, code, state, balance,
                                            chain_head, consent_membership, consent_membership_date,
                                            create_uid, write_uid, create_date, write_date)
                   SELECT member_id, %(program)s, %(company)s, 'Member ' || i, '+9198' || lpad(i::text, 8, '0'),
                          'B' || i, 'active', balance_after, entry_hash, TRUE, now() AT TIME ZONE 'UTC',
                          1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                     FROM (SELECT *, member_id - %(first_member)s AS i FROM bench_seed
                            WHERE k = %(lots)s - 1) s
                    ORDER BY member_id""", params)
            # Entries have no create/write columns since the ledger dropped them; a --ref
            # before that still has them.
            cr.execute("SELECT 1 FROM information_schema.columns "
                       "WHERE table_name = 'klodr_ledger_entry' AND column_name = 'create_uid'")
            log_columns, log_values = ("", "")
            if cr.fetchone():
                log_columns = ", create_uid, write_uid, create_date, write_date"
                log_values = ", 1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'"
            cr.execute(
                f"""INSERT INTO klodr_ledger_entry (id, program_id, company_id, member_id, entry_type, points,
                                                  balance_after, date, expiry_date, prev_hash, entry_hash,
                                                  user_id{log_columns})
                   SELECT %(first_entry)s + (member_id - %(first_member)s) * %(lots)s + k,
                          %(program)s, %(company)s, member_id, 'earn', points, balance_after,
                          %(t0)s::timestamp + k * %(step)s::interval,
                          (%(t0)s::timestamp + k * %(step)s::interval)::date + %(expiry_days)s,
                          prev_hash, entry_hash, 1{log_values}
                     FROM bench_seed ORDER BY 1""", params)
            entries += cr.rowcount
            cnx.commit()
            log(f"  seeded {stop:,}/{members:,} members, {entries:,} entries")
        # Explicit ids: move the sequences past them for the ORM's inserts.
        cr.execute("SELECT setval('klodr_member_id_seq', (SELECT MAX(id) FROM klodr_member))")
        cr.execute("SELECT setval('klodr_ledger_entry_id_seq', (SELECT MAX(id) FROM klodr_ledger_entry))")
        cnx.commit()
    return first_member, first_member + members - 1, entries


def check_chains_sample(cnx, member_ids):
    """Recompute the hash chains of ``member_ids`` with the addon's own checker; return the breaks."""
    from odoo.addons.loyalty_klodr.tools import ledger_check  # noqa: PLC0415
    from odoo.addons.loyalty_klodr.tools.hashing import HASHED_FIELDS  # noqa: PLC0415

    columns = ["id", "entry_hash", "prev_hash", *HASHED_FIELDS]
    breaks = []
    with cnx.cursor() as cr:
        cr.execute("SELECT id, chain_head FROM klodr_member WHERE id = ANY(%s)", [list(member_ids)])
        heads = dict(cr.fetchall())
        cr.execute(f"SELECT {', '.join(columns)} FROM klodr_ledger_entry WHERE member_id = ANY(%s) "
                   "ORDER BY member_id, id", [list(member_ids)])
        rows = {}
        for record in cr.fetchall():
            row = dict(zip(columns, record, strict=True))
            rows.setdefault(row["member_id"], []).append(row)
    for member_id in member_ids:
        breaks.extend(ledger_check.check_chain(member_id, rows.get(member_id, []), heads.get(member_id)))
    return breaks


# ----------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------
def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(math.ceil(fraction * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def timed_ms(func, runs):
    """Call ``func`` ``runs`` times; return each call's milliseconds, sorted."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples


def print_table(headers, rows):
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    print("\n".join(lines), flush=True)


def code_version(args):
    """The code measured: the exported commit, or the working tree (maybe with changes)."""
    if args.commit:
        return f"commit {args.commit[:12]}"
    head = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "loyalty_klodr"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return f"working tree at {head}{' with uncommitted changes' if dirty else ''}"


def machine_summary(args):
    with contextlib.closing(connect(args, "postgres")) as cnx, cnx.cursor() as cr:
        cr.execute("SHOW server_version")
        version = cr.fetchone()[0]
        cr.execute("SELECT name, setting, unit FROM pg_settings WHERE name IN "
                   "('shared_buffers', 'synchronous_commit', 'fsync')")
        settings = {name: f"{setting}{'x' + unit if unit else ''}" for name, setting, unit in cr.fetchall()}
    return {
        "date": datetime.date.today().isoformat(),
        "code": code_version(args),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": version,
        "pg_settings": settings,
    }


def save_results(name, args, results):
    """Also keep the numbers as JSON in bench/results/ (ignored by git)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"machine": machine_summary(args), "results": results}, indent=2, default=str))
    log(f"results saved to {path.relative_to(REPO_DIR)}")


def free_disk_gb(path="/"):
    return shutil.disk_usage(path).free / 1e9
