"""REST API throughput over HTTP: POST /transactions against Odoo's bare JSON-RPC and JSON-2, in one run.

Issue "[API]": req/s and p50/p99 of ``POST /api/loyalty/v1/transactions`` next to
Odoo's bare ``/web/webclient/version_info`` (JSON-RPC, auth none) and Odoo's JSON-2
``res.partner/search_read`` (bearer user API key), with the same wrk concurrency,
against a real Odoo server process (prefork, 2 workers) on loopback. Goals: our
earn >= 0.8x the bare endpoint's req/s and >= 2x JSON-2's. Also reported:
``GET /members/{mobile}``, and "the floor": ``POST /klodr_bench/floor`` of the
bench-only addon ``bench/addons/klodr_bench_floor`` (auth none, one durable
``INSERT`` through Odoo's dispatch), the least any write endpoint can cost. The
scenarios take turns in short rounds, so that load from elsewhere on the machine
weighs on all of them alike.

The database is recreated with loyalty_klodr and its demo data (the program
"Klodr Rewards"), ``--members`` members are added, a Klodr API key (rate limit
raised out of the way: the limiter's SQL still runs on every request) and an
Odoo user API key for the admin are created. Each earn request has a unique
order_ref and Idempotency-Key and a random member. After the run: every 201
answer must be a transaction in the database (the database may hold at most one
extra per connection and round: requests in flight when wrk stopped), and the
program's ledger must verify.

How clients name the database is the same for every scenario (``--db-select``):
``config`` (default) runs the server with ``-d DB`` and no ``--db-filter``, so that
Odoo serves that database without listing the databases on any request; ``header``
runs it with ``--db-filter`` and clients send ``X-Odoo-Database``; ``list`` runs it
with ``--db-filter`` and no header: every request then opens a connection to the
``postgres`` database to list the databases (a fixed ~8 ms that flatters the
slower endpoints' ratios).

``--profile`` (default: when an earn goal is missed) then replays earns in this
process through Odoo's WSGI application (werkzeug test client, no network):
SQL statements per request and a cProfile of the earn endpoint.
"""
import collections
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import _common as common

BASE = "/api/loyalty/v1"
FIRST_MOBILE = 10_000_000  # members are +9198<FIRST_MOBILE + i>: clear of the demo members' numbers
AMOUNT = "1234.50"
BARE_BODY = '{"jsonrpc":"2.0","method":"call","params":{}}'
JSON2_PATH = "/json/2/res.partner/search_read"
JSON2_BODY = '{"domain": [], "fields": ["name"], "limit": 1}'
FLOOR_PATH = "/klodr_bench/floor"
FLOOR_MODULE = "klodr_bench_floor"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DB_SELECT_LABELS = {"config": "-d DB (no --db-filter, no listing)",
                    "header": "X-Odoo-Database header (--db-filter)",
                    "list": "listing per request (--db-filter, no header)"}

# One script for every scenario; the Python side prepends the parameters as Lua globals.
# Per thread: a request counter for unique refs, the answers by status and the
# order_ref of every 201 (read back by done(), which runs in wrk's main state).
WRK_LUA = r"""
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(tid * 7919 + os.time())
  n = 0
  statuses = {}
  refs = {}
end

-- --db-select header: name the database, then Odoo does not list the databases on every request
local function with_db(headers)
  if DB_HEADER ~= "" then headers["X-Odoo-Database"] = DB_HEADER end
  return headers
end
local json_headers = with_db({["Content-Type"] = "application/json"})
local json2_headers = with_db({["Content-Type"] = "application/json", ["Authorization"] = "bearer " .. ODOO_KEY})
local api_headers = with_db({["Authorization"] = "Bearer " .. KLODR_KEY})

local function mobile()
  return string.format("+9198%08d", FIRST_MOBILE + math.random(0, MEMBERS - 1))
end

function request()
  n = n + 1
  if KIND == "bare" then
    return wrk.format("POST", "/web/webclient/version_info", json_headers, BARE_BODY)
  elseif KIND == "json2" then
    return wrk.format("POST", JSON2_PATH, json2_headers, JSON2_BODY)
  elseif KIND == "floor" then
    return wrk.format("POST", FLOOR_PATH, json_headers, string.format('{"ref": "%s-%d-%d"}', PREFIX, tid, n))
  elseif KIND == "earn" then
    local ref = string.format("%s-%d-%d", PREFIX, tid, n)
    local body = string.format('{"program_id": %d, "member": "%s", "order_ref": "%s", "amount": %s}',
                               PROGRAM_ID, mobile(), ref, AMOUNT)
    return wrk.format("POST", BASE .. "/transactions",
                      with_db({["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. KLODR_KEY,
                               ["Idempotency-Key"] = ref}), body)
  else
    local path = string.format("%s/members/%%2B9198%08d?program_id=%d", BASE,
                               FIRST_MOBILE + math.random(0, MEMBERS - 1), PROGRAM_ID)
    return wrk.format("GET", path, api_headers)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if KIND == "earn" and status == 201 then
    refs[#refs + 1] = body:match('"order_ref":%s*"([^"]+)"') or "?"
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(RESULT_FILE, "w"))
  out:write(string.format('{"requests": %d, "duration_us": %d, "bytes": %d, ', summary.requests,
                          summary.duration, summary.bytes))
  local e = summary.errors
  out:write(string.format('"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ',
                          e.connect, e.read, e.write, e.status, e.timeout))
  out:write(string.format('"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}, ',
                          latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
                          latency:percentile(99), latency:percentile(99.9)))
  -- The quantile function on a grid, to merge rounds into one distribution.
  local grid = {}
  for step = 1, 200 do grid[#grid + 1] = string.format("%d", latency:percentile(step / 2)) end
  out:write('"quantiles_us": [' .. table.concat(grid, ", ") .. '], ')
  local merged = {}
  local refs_out = assert(io.open(RESULT_FILE .. ".refs", "w"))
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get("statuses")) do merged[status] = (merged[status] or 0) + count end
    for _, ref in ipairs(t:get("refs")) do refs_out:write(ref, "\n") end
  end
  refs_out:close()
  local parts = {}
  for status, count in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', status, count) end
  out:write('"statuses": {' .. table.concat(parts, ", ") .. "}}\n")
  out:close()
end
"""


def lua_string(value):
    return json.dumps(str(value))  # a JSON string literal is a valid Lua one for these ASCII values


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_floor_addons(args):
    """Append ``bench/addons`` of the measured code to the addons path; return it, or None when the
    code (an old ``--ref``) has no floor addon."""
    paths = args.addons_path.split(",")
    # The first root that holds loyalty_klodr is the measured code: the --ref snapshot comes first.
    root = next((Path(path) for path in paths if (Path(path) / "loyalty_klodr").is_dir()), None)
    folder = root / "bench" / "addons" if root else None
    if folder is None or not (folder / FLOOR_MODULE).is_dir():
        return None
    if str(folder) not in paths:
        args.addons_path = ",".join([*paths, str(folder)])
    return folder


def install_with_demo(args):
    """Drop the database and install loyalty_klodr (and the floor addon) with demo data in a separate process."""
    common.drop_database(args)
    modules = ",".join(["loyalty_klodr", *([FLOOR_MODULE] if args.floor_addons else [])])
    common.log(f"installing {modules} with demo data into {args.db} ...")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "odoo", *common.odoo_options(args), "-i", modules, "--with-demo",
         "--stop-after-init"], capture_output=True, text=True, check=False)
    if result.returncode or " ERROR " in result.stderr or " CRITICAL " in result.stderr:
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"installation into {args.db} failed (exit {result.returncode})")
    common.log(f"installed in {time.perf_counter() - started:.0f} s")


def setup(registry, args):
    """Members, a Klodr API key and an Odoo user API key, committed. Return the parameters of the run."""
    context = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
    with common.odoo_env(registry, context) as env:
        program = env.ref("loyalty_klodr.klodr_program_demo")
        company = program.company_id
        started = time.perf_counter()
        for start in range(0, args.members, 500):
            env["klodr.member"].create([
                {"program_id": program.id, "name": f"Bench member {i}",
                 "mobile": common.mobile_number(FIRST_MOBILE + i)}
                for i in range(start, min(start + 500, args.members))])
            env.cr.commit()
        # Members enrolled through the API get their tier at once (the sign-up bonus recomputes it):
        # do the same, or every first earn would also move a member to Bronze and log that change.
        program.member_ids.filtered(lambda m: not m.tier_id)._recompute_tier(reason="bench setup")
        env.cr.commit()
        common.log(f"{args.members} members created in {time.perf_counter() - started:.1f} s")
        key, token = env["klodr.api.key"]._generate("bench", company)
        # The limiter still counts every request (its upsert is part of what we measure);
        # at its default of 1,200/min it would answer 429 to most of a benchmark.
        key.sudo().rate_limit = 2**31 - 1
        admin = env.ref("base.user_admin")
        odoo_key = env["res.users.apikeys"].with_user(admin)._generate(None, "bench json2", None)
        return {"program_id": program.id, "company_id": company.id, "klodr_key": token, "odoo_key": odoo_key,
                "key_id": key.id}


# ----------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------
def db_filter_options(args):
    """``config``: ``-d DB`` alone (in odoo_options) is the database of every request, no listing."""
    return [] if args.db_select == "config" else ["--db-filter", f"^{args.db}$"]


def start_server(args, log_path):
    command = [sys.executable, "-m", "odoo", *common.odoo_options(args), "--workers", str(args.workers),
               "--max-cron-threads", "0", "--http-port", str(args.port), "--gevent-port", str(free_port()),
               *db_filter_options(args), "--limit-time-real", "600", "--logfile", str(log_path)]
    # Its own process group: stopping it stops its workers too.
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the Odoo server exited ({server.returncode}); see {log_path}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/web/health", timeout=2) as answer:
                if answer.status == 200:
                    return server, command
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"the Odoo server did not answer /web/health within 90 s; see {log_path}")


def stop_server(server):
    if server.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)  # the group we created: the server and its workers
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)


def call(args, method, path, body=None, headers=None):
    """One request with urllib: (status, parsed JSON or text)."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(f"http://127.0.0.1:{args.port}{path}", data=data, method=method,
                                 headers=dict({"Content-Type": "application/json"} if data else {}, **(headers or {})))
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def smoke_test(args, run):
    """Each scenario once: the expected status and shape, else stop before measuring nonsense."""
    checks = [
        ("bare", call(args, "POST", "/web/webclient/version_info", BARE_BODY),
         lambda s, b: s == 200 and isinstance(b, dict) and "result" in b),
        ("json2", call(args, "POST", JSON2_PATH, JSON2_BODY, {"Authorization": f"bearer {run['odoo_key']}"}),
         lambda s, b: s == 200 and isinstance(b, list) and len(b) == 1),
        ("earn", call(args, "POST", f"{BASE}/transactions", json.dumps({
            "program_id": run["program_id"], "member": common.mobile_number(FIRST_MOBILE), "amount": AMOUNT,
            "order_ref": f"{run['run']}-smoke"}), {"Authorization": f"Bearer {run['klodr_key']}",
                                                 "Idempotency-Key": f"{run['run']}-smoke"}),
         lambda s, b: s == 201 and b.get("points_earned") == 123),
        ("member", call(args, "GET", f"{BASE}/members/%2B9198{FIRST_MOBILE:08d}?program_id={run['program_id']}",
                        headers={"Authorization": f"Bearer {run['klodr_key']}"}),
         lambda s, b: s == 200 and b.get("balance") == 123),
    ]
    if args.floor_addons:
        checks.append(("floor", call(args, "POST", FLOOR_PATH, json.dumps({"ref": f"{run['run']}-smoke"})),
                       lambda s, b: s == 201 and isinstance(b, dict) and type(b.get("id")) is int))
    for name, (status, body), ok in checks:
        if not ok(status, body):
            raise SystemExit(f"smoke test {name}: unexpected answer {status}: {str(body)[:500]}")


def cpu_jiffies():
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat: every process counts
    (Odoo's workers, PostgreSQL, wrk), which is what a request costs the machine."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields[:8])  # guest time is already in user
    return total - idle, total


def run_wrk(args, run, kind, seconds, tag, tmp):
    """wrk on one scenario; return its result dict (and the 201 order_refs for earns)."""
    result_file = Path(tmp) / f"{tag}.json"
    params = {"KIND": kind, "PREFIX": f"{run['run']}-{tag}", "PROGRAM_ID": run["program_id"],
              "MEMBERS": args.members, "FIRST_MOBILE": FIRST_MOBILE, "KLODR_KEY": run["klodr_key"],
              "ODOO_KEY": run["odoo_key"], "RESULT_FILE": result_file, "BASE": BASE, "AMOUNT": AMOUNT,
              "BARE_BODY": BARE_BODY, "JSON2_PATH": JSON2_PATH, "JSON2_BODY": JSON2_BODY, "FLOOR_PATH": FLOOR_PATH,
              "DB_HEADER": args.db if args.db_select == "header" else ""}
    header = "".join(f"{name} = {value if isinstance(value, int) else lua_string(value)}\n"
                     for name, value in params.items())
    script = Path(tmp) / f"{tag}.lua"
    script.write_text(header + WRK_LUA)
    command = [args.wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s",
               "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{args.port}"]
    load_before = os.getloadavg()[0]
    busy_before, total_before = cpu_jiffies()
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 60)
    busy_after, total_after = cpu_jiffies()
    if completed.returncode or not result_file.exists():
        raise SystemExit(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    result = json.loads(result_file.read_text())
    result["load_before"] = load_before
    result["cpu_busy_s"] = (busy_after - busy_before) / CLOCK_TICKS
    result["cpu_share"] = (busy_after - busy_before) / max(total_after - total_before, 1)
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    result["non_2xx"] = sum(count for status, count in result["statuses"].items() if not status.startswith("2"))
    refs_file = Path(f"{result_file}.refs")
    result["refs"] = refs_file.read_text().split() if refs_file.exists() else []
    return result, command


def merge_rounds(rounds):
    """One scenario's rounds as one result: counts summed, latency percentiles of the mixture of the
    rounds' distributions (each round's quantile grid weighted by its number of requests)."""
    requests = sum(r["requests"] for r in rounds)
    seconds = sum(r["duration_us"] for r in rounds) / 1e6
    cpu_busy = sum(r["cpu_busy_s"] for r in rounds)
    statuses, errors = collections.Counter(), collections.Counter()
    samples = []  # (latency in us, weight)
    for r in rounds:
        statuses.update(r["statuses"])
        errors.update(r["errors"])
        grid = r["quantiles_us"]
        samples += [(value, r["requests"] / len(grid)) for value in grid]
    samples.sort()

    def percentile(fraction):
        goal, seen = fraction * sum(w for _v, w in samples), 0.0
        for value, weight in samples:
            seen += weight
            if seen >= goal - 1e-9:
                return value
        return samples[-1][0] if samples else float("nan")

    return {
        "requests": requests, "seconds": seconds, "rate": requests / seconds, "statuses": dict(statuses),
        "errors": dict(errors), "non_2xx": sum(c for s, c in statuses.items() if not s.startswith("2")),
        "p50_ms": percentile(0.50) / 1000, "p90_ms": percentile(0.90) / 1000, "p99_ms": percentile(0.99) / 1000,
        "max_ms": max(r["latency_us"]["max"] for r in rounds) / 1000,
        "round_rates": [r["rate"] for r in rounds], "round_loads": [r["load_before"] for r in rounds],
        # the whole machine's busy CPU time (Odoo, PostgreSQL, wrk and anything else) per request
        "cpu_ms_per_request": cpu_busy * 1000 / max(requests, 1),
        "cpu_share": sum(r["cpu_share"] for r in rounds) / len(rounds),
        "refs": [ref for r in rounds for ref in r["refs"]],
        "rounds": [{k: v for k, v in r.items() if k not in ("refs", "quantiles_us")} for r in rounds],
    }


def read_server_log(log_path):
    """Error records of the server's log, each with its continuation lines; ``(errors, retried)`` where
    retried are serialization failures and deadlocks, which Odoo retries (the client sees no error)."""
    records, current = [], None
    for line in (log_path.read_text(errors="replace") if log_path.exists() else "").splitlines():
        if line[:4].isdigit() and line[4:5] == "-":  # a new record: "<date> <time> <pid> <LEVEL> ..."
            current = [line] if (" ERROR " in line or " CRITICAL " in line) else None
            if current is not None:
                records.append(current)
        elif current is not None:
            current.append(line)
    # prefork under ``python3 -m odoo`` fails to spawn the gevent child: expected, not ours.
    records = [" | ".join(r)[:600] for r in records if "gevent" not in " ".join(r).lower()]
    retryable = ("could not serialize", "deadlock detected", "concurrent update", "could not obtain lock")
    retried = [r for r in records if any(text in r for text in retryable)]
    return [r for r in records if r not in retried], retried


# ----------------------------------------------------------------------
# Checks and profile, in this process
# ----------------------------------------------------------------------
def check_database(registry, run, measured_refs, connections):
    """Transactions of the measured earn run against its 201 answers; the program's ledger."""
    with common.odoo_env(registry) as env:
        env.cr.execute("SELECT order_ref FROM klodr_transaction WHERE order_ref LIKE %s",
                       [f"{run['run']}-earn%"])
        in_db = {row[0] for row in env.cr.fetchall()}
        env.cr.execute("SELECT COUNT(*) FROM klodr_transaction WHERE order_ref LIKE %s", [f"{run['run']}-%"])
        all_txns = env.cr.fetchone()[0]
        started = time.perf_counter()
        breaks = env["klodr.ledger.entry"]._verify_ledger(program_ids=[run["program_id"]])
        verify_s = time.perf_counter() - started
    answered = set(measured_refs)
    return {
        "answers_201": len(measured_refs), "duplicate_201_refs": len(measured_refs) - len(answered),
        "transactions_in_db": len(in_db), "answered_201_missing_in_db": len(answered - in_db),
        "in_db_without_201": len(in_db - answered), "in_flight_allowance": connections,
        "ok": not (answered - in_db) and len(in_db - answered) <= connections and len(answered) == len(measured_refs),
        "bench_transactions_total": all_txns, "verify_breaks": [str(b) for b in breaks][:20],
        "verify_break_count": len(breaks), "verify_seconds": verify_s,
    }


def profile_in_process(args, run, count):
    """Earns through Odoo's WSGI application in this process: SQL per request, cProfile of ``count``."""
    from werkzeug.test import Client  # noqa: PLC0415

    import odoo  # noqa: PLC0415
    from odoo.http import root  # noqa: PLC0415

    client = Client(root)
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    numbers = iter(range(10**9))

    db_header = args.db_select == "header"

    def earn(tag):
        ref = f"{run['run']}-prof{tag}-{next(numbers)}"
        member = common.mobile_number(FIRST_MOBILE + (next(numbers) * 7919) % args.members)
        headers = {"Authorization": f"Bearer {run['klodr_key']}", "Idempotency-Key": ref}
        if db_header:  # names the database: Odoo skips listing the databases
            headers["X-Odoo-Database"] = args.db
        answer = client.post(f"{BASE}/transactions", environ_base=environ, json={
            "program_id": run["program_id"], "member": member, "order_ref": ref, "amount": AMOUNT},
            headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)[:500]
        return ref

    def member_get():
        headers = {"Authorization": f"Bearer {run['klodr_key']}"}
        if db_header:
            headers["X-Odoo-Database"] = args.db
        answer = client.get(f"{BASE}/members/%2B9198{FIRST_MOBILE + 1:08d}?program_id={run['program_id']}",
                            environ_base=environ, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]

    def floor():
        answer = client.post(FLOOR_PATH, environ_base=environ, json={"ref": f"{run['run']}-prof-{next(numbers)}"},
                             headers={"X-Odoo-Database": args.db} if db_header else {})
        assert answer.status_code == 201, answer.get_data(as_text=True)[:500]

    def bare():
        assert client.post("/web/webclient/version_info", environ_base=environ, data=BARE_BODY,
                           content_type="application/json",
                           headers={"X-Odoo-Database": args.db} if db_header else {}).status_code == 200

    def json2():
        headers = {"Authorization": f"bearer {run['odoo_key']}"}
        if db_header:
            headers["X-Odoo-Database"] = args.db
        assert client.post(JSON2_PATH, environ_base=environ, data=JSON2_BODY, content_type="application/json",
                           headers=headers).status_code == 200

    endpoints = [("bare version_info", bare), ("JSON-2 search_read", json2),
                 ("POST /transactions", lambda: earn("count")), ("GET /members/{m}", member_get)]
    if args.floor_addons:
        endpoints.append(("floor", floor))
    for _ in range(30):  # caches: routing map, compiled rules, field metadata
        for _name, func in endpoints:
            func()

    class Capture(logging.Handler):
        def __init__(self):
            super().__init__(logging.DEBUG)
            self.statements = []

        def emit(self, record):
            message = record.getMessage()
            if "query:" in message:  # not the pool's and the cursors' own messages
                self.statements.append(" ".join(message.split())[:220])
            elif message.startswith("create cursor to") and "'postgres'" in message:
                self.statements.append("(a new cursor on the `postgres` database: Odoo lists the databases)")

    stats = {}
    sql_log = logging.getLogger("odoo.sql_db")
    for name, func in endpoints:
        timings = common.timed_ms(func, 20)
        capture = Capture()
        level = sql_log.level
        propagate = sql_log.propagate
        sql_log.addHandler(capture)
        sql_log.setLevel(logging.DEBUG)
        sql_log.propagate = False  # to our list only, not to Odoo's log handler
        before = odoo.sql_db.sql_counter
        try:
            func()
        finally:
            sql_log.setLevel(level)
            sql_log.propagate = propagate
            sql_log.removeHandler(capture)
        stats[name] = {"queries": odoo.sql_db.sql_counter - before, "statements": capture.statements,
                       "median_ms_single_client": timings[len(timings) // 2]}
    sql_replay = replay_earn_sql(args, lambda: earn("replay"))

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(count):
        earn("cprof")
    profiler.disable()
    elapsed = time.perf_counter() - started
    listing = {}
    for name, sort, restriction in (("cumulative", "cumulative", [35]), ("tottime", "tottime", [35]),
                                    ("addon", "cumulative", ["loyalty_klodr", 30])):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(*restriction)
        listing[name] = out.getvalue()
    return {"requests": count, "ms_per_request_profiled": elapsed / count * 1000, "per_endpoint": stats,
            "sql_replay": sql_replay, "cprofile": listing}


def replay_earn_sql(args, earn, repeats=200):
    """The SQL one earn runs, replayed with plain psycopg2, without Odoo: what the database alone
    costs per earn, whatever the Python around it.

    One earn is run through Odoo with every statement recorded as sent (``cursor.query``, its
    parameters in place), and the key's usage statement, which runs on its own connection. Then,
    ``repeats`` times on one connection: the statements after Odoo's registry check (which the bare
    endpoint runs too), with the earn's unique values renewed (order ref = Idempotency-Key, the
    entry's idempotency key), then ROLLBACK; and the usage statement on an autocommit connection.
    A durable commit is timed apart (``INSERT`` + ``COMMIT`` into the floor's table when it is
    installed, else a temporary table).
    """
    import odoo  # noqa: PLC0415

    recorded, usage = [], []
    original_execute = odoo.sql_db.Cursor.execute

    def recording_execute(cursor, *a, **kw):
        result = original_execute(cursor, *a, **kw)
        recorded.append(cursor._obj.query)
        return result

    try:
        from odoo.addons.loyalty_klodr.models import klodr_api_key  # noqa: PLC0415
    except ImportError:
        klodr_api_key = None
    original_usage = getattr(klodr_api_key, "_usage_fetchone", None)
    if original_usage:
        def recording_usage(dbname, query, params):
            usage.append((query, params))
            return original_usage(dbname, query, params)
        klodr_api_key._usage_fetchone = recording_usage
    odoo.sql_db.Cursor.execute = recording_execute
    try:
        ref = earn().encode()
    finally:
        odoo.sql_db.Cursor.execute = original_execute
        if original_usage:
            klodr_api_key._usage_fetchone = original_usage
    statements = [q for q in recorded if b"orm_signaling_registry" not in q]

    def timed(func):
        return common.percentile(common.timed_ms(func, repeats), 0.5)

    with contextlib.closing(common.connect(args)) as cnx, contextlib.closing(common.connect(args)) as auto:
        auto.autocommit = True
        cr, auto_cr = cnx.cursor(), auto.cursor()

        repeat = iter(range(10**9))

        def earn_statements():
            fresh = f"replay-{next(repeat)}".encode()
            for query in statements:
                # the committed earn holds the recorded ref and keys: new ones, or the inserts would conflict
                cr.execute(re.sub(rb"order:\d+:earn", fresh + b":earn", query.replace(ref, fresh)))
            cnx.rollback()

        def usage_statement():
            for query, params in usage:
                auto_cr.execute(query, params)

        cr.execute("SELECT to_regclass('klodr_bench_floor') IS NOT NULL")
        table = "klodr_bench_floor" if cr.fetchone()[0] else None
        if not table:
            cr.execute("CREATE TEMPORARY TABLE bench_commit (ref varchar)")
            cnx.commit()
            table = "bench_commit"

        def durable_commit():
            cr.execute(f"INSERT INTO {table} (ref) VALUES ('replay')")  # noqa: S608 (our own names)
            cnx.commit()

        def backend_cpu_s():
            """CPU time PostgreSQL's two server processes of these connections have used (Linux /proc)."""
            total = 0
            for pid in (cnx.get_backend_pid(), auto.get_backend_pid()):
                with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            return total / CLOCK_TICKS

        cpu_before = backend_cpu_s()
        earn_ms = timed(earn_statements)
        usage_ms = timed(usage_statement) if usage else 0.0
        # the server's CPU per earn, whatever the round trips wait for (a mean: /proc has totals)
        server_cpu_ms = (backend_cpu_s() - cpu_before) * 1000 / repeats
        return {"statements": len(statements), "earn_statements_ms": earn_ms, "usage_statement_ms": usage_ms,
                "server_cpu_ms": server_cpu_ms, "durable_insert_commit_ms": timed(durable_commit)}


# ----------------------------------------------------------------------
def main():
    parser = common.make_parser(__doc__.splitlines()[0], "klodr_bench_api")
    parser.add_argument("--members", type=int, default=2000,
                        help="members the earns are spread over (default: %(default)s)")
    parser.add_argument("--seconds", type=int, default=20,
                        help="measured seconds per scenario, over all rounds (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="interleaved rounds the seconds are split into (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per scenario (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="Odoo HTTP workers (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    parser.add_argument("--db-select", choices=["config", "header", "list"], default="config",
                        help="how every request finds the database: config = server -d DB without --db-filter "
                             "(no listing); header = --db-filter and X-Odoo-Database on every request; list = "
                             "--db-filter, no header: Odoo lists the databases on every request "
                             "(default: %(default)s)")
    parser.add_argument("--profile", choices=["auto", "always", "never"], default="auto",
                        help="profile the earn endpoint in-process afterwards: auto = when a goal is missed")
    parser.add_argument("--profile-requests", type=int, default=100)
    args = common.parse_args(parser)
    args.floor_addons = add_floor_addons(args)
    if not args.floor_addons:
        common.log(f"no bench/addons/{FLOOR_MODULE} in the measured code (an older --ref?): "
                   "the floor scenario is skipped")
    args.wrk = shutil.which("wrk")
    if not args.wrk:
        raise SystemExit("wrk not found (Debian: apt-get install wrk)")
    args.port = args.port or free_port()
    began = time.perf_counter()
    loads = {"start": os.getloadavg()}

    install_with_demo(args)
    registry = common.load_registry(args)
    run = setup(registry, args)
    run["run"] = f"B{uuid.uuid4().hex[:6]}"
    tmp = tempfile.mkdtemp(prefix="klodr-bench-api-")
    log_path = Path(tmp) / "odoo.log"
    common.log(f"starting Odoo: {args.workers} workers on 127.0.0.1:{args.port} (log {log_path}) ...")
    try:
        server, server_command = start_server(args, log_path)
    except SystemExit:
        sys.stderr.write(log_path.read_text(errors="replace")[-4000:] if log_path.exists() else "")
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    scenarios = {"bare": "bare: POST /web/webclient/version_info (JSON-RPC, auth none)",
                 "json2": "JSON-2: POST /json/2/res.partner/search_read (bearer)",
                 "earn": "ours: POST /api/loyalty/v1/transactions",
                 "member": "ours: GET /api/loyalty/v1/members/{mobile}"}
    if args.floor_addons:
        scenarios["floor"] = "floor: POST /klodr_bench/floor (one durable INSERT, auth none)"
    per_round = max(args.seconds // args.rounds, 1)
    rounds, wrk_command = {kind: [] for kind in scenarios}, None
    try:
        try:
            smoke_test(args, run)
        except SystemExit:
            errors, _retried = read_server_log(log_path)
            sys.stderr.write("\n".join(errors[:3]) + "\n")
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if args.warmup:
            common.log(f"warm-up: {args.warmup} s per scenario ...")
            for kind in scenarios:
                run_wrk(args, run, kind, args.warmup, f"warm-{kind}", tmp)
        # Rounds interleave the scenarios (in a rotating order), so that load from elsewhere
        # on the machine weighs on all of them alike.
        kinds = list(scenarios)
        for number in range(args.rounds):
            common.log(f"round {number + 1}/{args.rounds}: {per_round} s per scenario ...")
            for kind in kinds[number % len(kinds):] + kinds[:number % len(kinds)]:
                result, wrk_command = run_wrk(args, run, kind, per_round, f"{kind}{number}", tmp)
                rounds[kind].append(result)
    finally:
        loads["end"] = os.getloadavg()
        stop_server(server)
        common.log("server stopped")
    results = {kind: dict(merge_rounds(rounds[kind]), label=label) for kind, label in scenarios.items()}
    server_errors, retried = read_server_log(log_path)

    # wrk stops with up to one request in flight per connection, each round
    checks = check_database(registry, run, results["earn"]["refs"], args.connections * args.rounds)
    bare, json2, earn = results["bare"]["rate"], results["json2"]["rate"], results["earn"]["rate"]
    def by_round(kind, baseline):
        return [a / b for a, b in zip(results[kind]["round_rates"], results[baseline]["round_rates"], strict=True)]

    ratios = {"earn_vs_bare": earn / bare, "earn_vs_json2": earn / json2,
              "member_vs_bare": results["member"]["rate"] / bare,
              "earn_vs_bare_by_round": by_round("earn", "bare"), "earn_vs_json2_by_round": by_round("earn", "json2")}
    if "floor" in results:
        floor = results["floor"]["rate"]
        ratios.update({"floor_vs_bare": floor / bare, "earn_vs_floor": earn / floor,
                       "floor_vs_bare_by_round": by_round("floor", "bare"),
                       "earn_vs_floor_by_round": by_round("earn", "floor")})
    goals = {"earn >= 0.8 x bare": ratios["earn_vs_bare"] >= 0.8, "earn >= 2 x JSON-2": ratios["earn_vs_json2"] >= 2}

    print(f"\nAPI throughput, Odoo {args.workers} workers, wrk -t{args.threads} -c{args.connections}, "
          f"{args.rounds} interleaved rounds x {per_round} s per scenario after {args.warmup} s warm-up, "
          f"{args.members} members, database by {DB_SELECT_LABELS[args.db_select]}, "
          f"{common.code_version(args)}; {os.cpu_count()} CPUs, load average {loads['start'][0]:.2f} at start, "
          f"{loads['end'][0]:.2f} at end")
    rows = []
    for result in results.values():
        statuses = " ".join(f"{s}:{c}" for s, c in sorted(result["statuses"].items()))
        sock = sum(v for k, v in result["errors"].items() if k != "status")
        rows.append([result["label"], f"{result['rate']:.1f}",
                     "-".join(f"{r:.1f}" for r in (min(result["round_rates"]), max(result["round_rates"]))),
                     f"{result['p50_ms']:.0f}", f"{result['p99_ms']:.0f}",
                     f"{result['cpu_ms_per_request']:.1f} ({result['cpu_share']:.0%})", result["non_2xx"], sock,
                     statuses, f"{result['rate'] / bare:.2f}", f"{result['rate'] / json2:.2f}"])
    common.print_table(["scenario", "req/s", "rounds req/s", "p50 ms", "p99 ms", "CPU ms/req (busy)", "non-2xx",
                        "socket err", "statuses", "vs bare", "vs JSON-2"], rows)
    print(f"\nGoals: earn/bare = {ratios['earn_vs_bare']:.2f} (>= 0.8: "
          f"{'ok' if goals['earn >= 0.8 x bare'] else 'BELOW'}; rounds "
          f"{' '.join(f'{r:.2f}' for r in ratios['earn_vs_bare_by_round'])}); earn/JSON-2 = "
          f"{ratios['earn_vs_json2']:.2f} (>= 2: {'ok' if goals['earn >= 2 x JSON-2'] else 'BELOW'}; rounds "
          f"{' '.join(f'{r:.2f}' for r in ratios['earn_vs_json2_by_round'])})")
    # How much of the 0.8 x bare goal any write endpoint can reach at all.
    if "floor" in results:
        print(f"Floor: one durable INSERT through Odoo's dispatch = {ratios['floor_vs_bare']:.2f} x bare; "
              f"earn = {ratios['earn_vs_floor']:.2f} x floor (rounds: floor/bare "
              f"{' '.join(f'{r:.2f}' for r in ratios['floor_vs_bare_by_round'])}; earn/floor "
              f"{' '.join(f'{r:.2f}' for r in ratios['earn_vs_floor_by_round'])})")
    else:
        print(f"Floor: skipped (no bench/addons/{FLOOR_MODULE} in the measured code)")
    # The goals as machine time: on a saturated machine req/s is CPUs / CPU time per request.
    cpu = {kind: result["cpu_ms_per_request"] for kind, result in results.items()}
    print(f"CPU budget per earn (whole machine, ms): 0.8 x bare allows {cpu['bare'] / 0.8:.1f} (bare uses "
          f"{cpu['bare']:.1f}); 2 x JSON-2 allows {cpu['json2'] / 2:.1f} (JSON-2 uses {cpu['json2']:.1f}); "
          + (f"the floor uses {cpu['floor']:.1f}; " if "floor" in cpu else "")
          + f"the earn uses {cpu['earn']:.1f}")
    print(f"Database: {checks['answers_201']} answers 201, {checks['transactions_in_db']} transactions of that run "
          f"in the database, {checks['answered_201_missing_in_db']} answered but missing, "
          f"{checks['in_db_without_201']} without an answer (in flight when wrk stopped, "
          f"<= {checks['in_flight_allowance']} allowed): "
          f"{'ok' if checks['ok'] else 'MISMATCH'}; ledger verify: {checks['verify_break_count']} break(s) "
          f"({checks['verify_seconds']:.1f} s); server log: {len(server_errors)} error(s), {len(retried)} "
          "serialization failure(s)/deadlock(s) retried by Odoo")
    for line in server_errors[:5] + retried[:2]:
        print(f"  {line[:400]}")
    for line in checks["verify_breaks"][:5]:
        print(f"  break: {line}")

    profile = None
    if args.profile == "always" or (args.profile == "auto" and not all(goals.values())):
        common.log(f"profiling {args.profile_requests} earns in-process (werkzeug client on odoo.http.root) ...")
        import odoo  # noqa: PLC0415

        if args.db_select != "config":
            odoo.tools.config["dbfilter"] = f"^{args.db}$"
        profile = profile_in_process(args, run, args.profile_requests)
        print("\nSQL statements per request (in-process, one client, after warm-up; commits not counted; "
              "the API's requests also run one statement on the key usage connection, autocommit, not counted):")
        common.print_table(["request", "SQL statements", "median ms (1 client, no network)"],
                           [[name, s["queries"], f"{s['median_ms_single_client']:.1f}"]
                            for name, s in profile["per_endpoint"].items()])
        replay = profile["sql_replay"]
        print(f"\nThe earn's own SQL replayed with plain psycopg2, no Odoo, one client (median of 200): its "
              f"{replay['statements']} statements after Odoo's registry check {replay['earn_statements_ms']:.2f} ms "
              f"(rolled back), the key's usage statement {replay['usage_statement_ms']:.2f} ms, of which "
              f"PostgreSQL's CPU {replay['server_cpu_ms']:.2f} ms (mean, its server processes' time in /proc); "
              f"a durable INSERT + COMMIT {replay['durable_insert_commit_ms']:.2f} ms")
        print("\nStatements of one POST /transactions:")
        number = 0
        for statement in profile["per_endpoint"]["POST /transactions"]["statements"]:
            if statement.startswith("("):
                print(f"      {statement}")
                continue
            number += 1
            print(f"  {number:2d}. {statement}")
        print(f"\ncProfile of {args.profile_requests} earns ({profile['ms_per_request_profiled']:.1f} ms each "
              "under the profiler), by cumulative time:")
        print(profile["cprofile"]["cumulative"])
        print("by own time:")
        print(profile["cprofile"]["tottime"])
        print("the addon's functions, by cumulative time:")
        print(profile["cprofile"]["addon"])

    for result in results.values():
        result.pop("refs", None)
    common.save_results("bench_api", args, {
        "members": args.members, "seconds": args.seconds, "warmup": args.warmup, "connections": args.connections,
        "rounds": args.rounds,
        "wrk_threads": args.threads, "workers": args.workers, "db_select": args.db_select,
        "floor_addons": str(args.floor_addons) if args.floor_addons else None,
        "load_average": loads, "scenarios": results,
        "ratios": ratios, "goals": goals, "checks": checks, "server_errors": server_errors[:20],
        "server_retried": {"count": len(retried), "first": retried[:3]},
        "server_command": " ".join(server_command),
        "wrk_command": " ".join(wrk_command or []), "profile": profile,
        "total_seconds": time.perf_counter() - began,
    })
    if profile is not None:  # the API's key usage connection of this process, if it served requests
        try:
            from odoo.addons.loyalty_klodr.models.klodr_api_key import close_usage_connections  # noqa: PLC0415
        except ImportError:  # the addon at an older --ref has none
            pass
        else:
            close_usage_connections(args.db)
    if args.keep:
        common.log(f"kept database {args.db}; files in {tmp}")
    else:
        common.drop_database(args)
        shutil.rmtree(tmp, ignore_errors=True)
    common.log(f"done in {time.perf_counter() - began:.0f} s")
    if not checks["ok"] or checks["verify_break_count"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
