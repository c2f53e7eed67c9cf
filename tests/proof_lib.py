"""Machinery of the proof suite: real Odoo servers with workers, API clients doing random
operations, faults (killed workers, dropped database connections), and the checks that
nothing was lost or doubled.

Used by ``tests/test_proof_*.py`` (small, bounded runs in the regular tests) and by
``bench/proof.py`` (the full run: 8 clients, 10,000 operations, 200 members, 4 stores, two
Odoo servers, 100 worker kills; figures printed and saved).

Every operation that moves points carries an Idempotency-Key; a client that loses its
connection (its worker was killed, the database dropped it) retries with the same key, on
any server, until it gets an answer. The points each member gained or lost by the answers
the API gave are then compared with the ledger.
"""
import contextlib
import dataclasses
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import requests

BASE = "/api/loyalty/v1"
OPERATIONS = ("earn", "refund", "redeem", "cancel", "event", "lookup")
DEFAULT_MIX = {"earn": 40, "refund": 10, "redeem": 18, "cancel": 6, "event": 16, "lookup": 10}


# ----------------------------------------------------------------------
# Servers
# ----------------------------------------------------------------------
# Odoo's prefork master also starts a websocket ("gevent") process by re-running ``sys.argv[0]``
# with ``gevent``, and starts it again whenever it ends. Where gevent cannot start (here: its plugin
# look-up through pkg_resources fails on zope.interface's metadata), that process dies on import and
# is re-spawned at every turn of the master's loop: a whole Python and Odoo import, over and over,
# which ate most of a core per server and made the load crawl. The API needs no websocket, so the
# servers run through this launcher: Odoo itself for the server, and for ``gevent`` a stand-in that
# only waits (the master kills it on stop; it ends on its own if the master is gone).
LAUNCHER = """import os, sys, time
if sys.argv[1:2] == ["gevent"]:
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(2)
    sys.exit(0)
import odoo.cli
odoo.cli.main()
"""


def odoo_command():
    """How to start Odoo with workers: ``python <launcher>`` (see ``LAUNCHER``); the launcher is
    what the prefork master re-runs as ``sys.argv[0]``, so ``python -m odoo`` would not do."""
    import tempfile  # noqa: PLC0415

    path = Path(tempfile.gettempdir()) / f"klodr-proof-launcher-{os.getuid()}.py"
    if not path.is_file() or path.read_text() != LAUNCHER:
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(LAUNCHER)
        partial.replace(path)
    return [sys.executable, str(path)]


def free_port():
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """One ``odoo`` process with ``workers`` HTTP worker processes (prefork), as a machine runs it."""

    def __init__(self, db, addons_path, *, workers=2, db_args=(), log_dir=None, name="odoo"):
        self.db, self.addons_path, self.workers = db, addons_path, workers
        self.db_args = list(db_args)
        self.port, self.gevent_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(log_dir or os.environ.get("TMPDIR", "/tmp"), f"klodr-proof-{name}-{self.port}.log")
        self.process = None

    def start(self, timeout=180):
        # ``-d`` alone, no ``--db-filter``: with a filter, Odoo lists the databases at every request
        # (a new connection to ``postgres``, which its pool never keeps); with ``-d`` it serves that one.
        args = [*odoo_command(), "-d", self.db, "--addons-path", self.addons_path,
                "--http-interface", "127.0.0.1", "--http-port", str(self.port),
                "--gevent-port", str(self.gevent_port), "--workers", str(self.workers),
                "--max-cron-threads", "0", "--log-level", "warn",
                "--limit-time-real", "120", "--limit-time-cpu", "60", *self.db_args]
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/web/health", timeout=2).status_code == 200 \
                        and len(self.worker_pids()) >= self.workers:
                    return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the Odoo server exited: see {self.log_path}")
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the Odoo server did not start in {timeout} s: see {self.log_path}")

    def worker_pids(self):
        """PIDs of the HTTP workers (the master's children other than the gevent process)."""
        import psutil  # noqa: PLC0415 - one of Odoo's own requirements

        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        pids = []
        for child in children:
            with contextlib.suppress(psutil.Error):
                if "gevent" not in child.cmdline():  # the websocket process: `odoo-bin gevent ...`
                    pids.append(child.pid)
        return pids

    def busy_workers(self):
        """PIDs of the HTTP workers holding a client's connection: in the middle of a request."""
        import psutil  # noqa: PLC0415

        busy = []
        for pid in self.worker_pids():
            with contextlib.suppress(psutil.Error):
                if any(c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == self.port
                       for c in psutil.Process(pid).connections(kind="tcp")):
                    busy.append(pid)
        return busy

    def kill_worker(self, rng):
        """``kill -9`` one HTTP worker chosen by ``rng``, one in the middle of a request if there is
        one; the master starts another. Return ``(pid, busy)`` or None when there is no worker."""
        busy = self.busy_workers()
        pids = busy or self.worker_pids()
        if not pids:
            return None
        pid = rng.choice(pids)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return pid, bool(busy)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        with contextlib.suppress(AttributeError):
            self._log.close()


# ----------------------------------------------------------------------
# The world the load runs in
# ----------------------------------------------------------------------
def build_world(env, run, stores=4, rate_limit=10**6):
    """A program of its own (OTP required, the demo program's earn rules), ``stores`` stores and an
    API key, committed by the caller. Return a dict of ids and the key's token."""
    company = env.ref("base.main_company")
    program = env["klodr.program"].create({
        "name": f"Proof {run}", "company_id": company.id, "point_value": 0.25, "min_redeem_balance": 100,
        "max_redeem_share": 50, "expiry_policy": "months", "expiry_months": 12, "otp_required": True,
        "country_id": env.ref("base.in").id, "tz": "Asia/Kolkata",
        # the load redeems far more often than a member would: no hourly OTP ceiling in the way
        "otp_max_per_member_hour": 10**4, "otp_max_per_phone_hour": 10**4, "otp_resend_seconds": 0,
    })
    rules = env["klodr.earn.rule"]
    rules.create([
        {"program_id": program.id, "name": "1 point per 10 spent", "kind": "amount", "points": 1,
         "spend_unit": 10, "rounding": "down", "entry_type": "earn"},
        {"program_id": program.id, "name": "Welcome", "kind": "event", "event": "signup", "points": 100,
         "entry_type": "bonus", "cap_lifetime": 1},
        {"program_id": program.id, "name": "Check-in", "kind": "event", "event": "checkin", "points": 20,
         "entry_type": "bonus", "cap_day": 1},
        {"program_id": program.id, "name": "Review", "kind": "event", "event": "review", "points": 50,
         "entry_type": "bonus", "cap_month": 3},
    ])
    store_codes = []
    for number in range(1, stores + 1):
        code = f"PROOF-{run}-{number}"
        env["klodr.store"].create({"name": f"Proof showroom {number}", "code": code, "company_id": company.id})
        store_codes.append(code)
    key, token = env["klodr.api.key"]._generate(f"proof {run}", company, program)
    key.sudo().rate_limit = rate_limit
    return {"program": program.id, "company": company.id, "stores": store_codes, "token": token}


class SqlReader:
    """Reads of the SMS queue on one connection per client thread (autocommit: each read sees what
    is committed), opened again when the faults dropped it, rather than a new connection (a new
    PostgreSQL backend) per read."""

    def __init__(self, cnx_factory, max_wait=60):
        self.cnx_factory, self.max_wait = cnx_factory, max_wait
        self.local = threading.local()

    def fetchall(self, query, params):
        import psycopg2  # noqa: PLC0415

        deadline = time.monotonic() + self.max_wait
        while True:
            cnx = getattr(self.local, "cnx", None)
            try:
                if cnx is None or cnx.closed:
                    cnx = self.local.cnx = self.cnx_factory()
                    cnx.autocommit = True
                with cnx.cursor() as cr:
                    cr.execute(query, params)
                    return cr.fetchall()
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                with contextlib.suppress(Exception):
                    cnx.close()
                self.local.cnx = None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self):
        with contextlib.suppress(Exception):
            self.local.cnx.close()
        self.local.cnx = None


def sms_codes_since(reader, mobile, since_id):
    """The 6-digit codes sent by SMS to ``mobile`` after sms.sms id ``since_id``, newest first."""
    rows = reader.fetchall("SELECT body FROM sms_sms WHERE number IN (%s, %s) AND id > %s ORDER BY id DESC",
                           [mobile, mobile.lstrip("+"), since_id])
    codes = []
    for (body,) in rows:
        body = body or ""
        codes += [w for w in body.replace(".", " ").replace(":", " ").split() if w.isdigit() and len(w) == 6]
    return codes


def last_sms_id(reader):
    return reader.fetchall("SELECT COALESCE(MAX(id), 0) FROM sms_sms", [])[0][0]


# ----------------------------------------------------------------------
# Clients
# ----------------------------------------------------------------------
@dataclasses.dataclass
class Member:
    code: str
    mobile: str
    reported: int = 0  # points moved according to the API's answers
    orders: list = dataclasses.field(default_factory=list)  # [order_ref, amount, refunded]
    confirmed: list = dataclasses.field(default_factory=list)  # redemption ids
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes = Counter()  # (operation, status or error code)
        self.latencies = defaultdict(list)  # operation -> seconds of the final answer's attempt
        self.retries = 0
        self.unanswered = []  # operations that never got an answer: their effect is unknown
        self.anomalies = []  # answers outside the contract (5xx after retries, unexpected codes)
        self.not_api = []  # answers that did not come from the API (not JSON): retried

    def record(self, operation, outcome, seconds):
        with self.lock:
            self.outcomes[(operation, outcome)] += 1
            self.latencies[operation].append(seconds)


class ApiClient:
    """One integrator: a session per server, retries with the same Idempotency-Key until answered."""

    def __init__(self, servers, token, stats, rng, max_wait=120):
        self.servers, self.token, self.stats, self.rng, self.max_wait = servers, token, stats, rng, max_wait
        self.sessions = {s: requests.Session() for s in servers}

    def call(self, operation, method, path, body=None, idempotent=True):
        """Send until a definite answer (anything but a lost connection, 5xx or 503); return it or None."""
        key = uuid.uuid4().hex if method == "POST" and idempotent else None
        deadline = time.monotonic() + self.max_wait
        attempt = 0
        while True:
            server = self.rng.choice(self.servers)
            headers = {"Authorization": f"Bearer {self.token}"}
            if key:
                headers["Idempotency-Key"] = key
            started = time.perf_counter()
            try:
                response = self.sessions[server].request(
                    method, f"{server}{BASE}{path}", json=body if method == "POST" else None,
                    params=body if method == "GET" else None, headers=headers, timeout=60)
            except requests.RequestException:
                response = None
            seconds = time.perf_counter() - started
            retry_after = 0.2 * min(2 ** attempt, 10)
            if response is not None and response.status_code == 429:
                retry_after = float(response.headers.get("Retry-After") or 1)
            if response is not None and response.status_code < 500 \
                    and not response.headers.get("Content-Type", "").startswith("application/json"):
                # Not the API's answer (every one of them is JSON): Odoo's own page, e.g. the HTML
                # 404 it serves when the database connection dies as a request starts (odoo/http.py
                # _serve_db: the registry check fails, the request goes to the database-less
                # routes). The request did nothing: sent again with the same key, and counted.
                with self.stats.lock:
                    self.stats.not_api.append(f"{operation} {method} {path}: {response.status_code} "
                                              f"{response.headers.get('Content-Type')}")
                response = None
            if response is not None and response.status_code < 500 and response.status_code != 429 \
                    and not (response.status_code == 409 and _code(response) == "conflict"):
                self.stats.record(operation, f"{response.status_code} {_code(response) or ''}".strip(), seconds)
                if response.status_code == 400 or (response.status_code == 409 and operation != "enroll"):
                    # the load sends only well-formed requests: a 400 or a conflict is outside the contract
                    with self.stats.lock:
                        self.stats.anomalies.append(f"{operation} {path} {body}: {response.status_code} "
                                                    f"{response.text[:300]}")
                return response
            if time.monotonic() + retry_after > deadline:
                with self.stats.lock:
                    self.stats.unanswered.append((operation, path, body, key,
                                                  response.status_code if response is not None else "no answer"))
                return None
            with self.stats.lock:
                self.stats.retries += 1
            attempt += 1
            time.sleep(retry_after)


def _code(response):
    with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
        return response.json()["error"]["code"]
    return None


class LoadRun:
    """``clients`` threads doing ``operations`` random operations on ``members`` members in ``stores``."""

    def __init__(self, servers, world, cnx_factory, *, clients=8, operations=10_000, members=200, seed=1,
                 mix=None, time_limit=None):
        self.servers, self.world, self.cnx_factory = servers, world, cnx_factory
        self.clients, self.operations, self.member_count = clients, operations, members
        self.seed, self.mix, self.time_limit = seed, mix or DEFAULT_MIX, time_limit
        self.stats = Stats()
        self.members = []
        self.done = 0
        self.lock = threading.Lock()
        self.program = world["program"]
        self.sql = SqlReader(cnx_factory)

    # enrolment happens first, spread over the clients, and counts as operations
    def enroll_all(self):
        queue = list(range(self.member_count))
        run = uuid.uuid4().hex[:6]
        assert self.member_count <= 10**4, "mobiles are numbered with 4 digits"

        def worker(index):
            rng = random.Random(self.seed * 1000 + index)
            client = ApiClient(self.servers, self.world["token"], self.stats, rng)
            while True:
                with self.lock:
                    if not queue:
                        return
                    number = queue.pop()
                mobile = f"+9197{int(run, 16) % 10**4:04d}{number:04d}"
                response = client.call("enroll", "POST", "/members", {
                    "program_id": self.program, "mobile": mobile, "name": f"Proof {run} {number}",
                    "store_ref": rng.choice(self.world["stores"])})
                if response is not None and response.status_code == 201:
                    data = response.json()
                    member = Member(code=data["code"], mobile=data["mobile"], reported=data["balance"])
                    with self.lock:
                        self.members.append(member)
                        self.done += 1

        self._run_threads(worker)

    def run(self):
        started = time.perf_counter()
        self.enroll_all()
        self._deadline = time.monotonic() + self.time_limit if self.time_limit else None
        self._run_threads(self._client_loop)
        return time.perf_counter() - started

    def _run_threads(self, target):
        threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _next(self):
        with self.lock:
            if self.done >= self.operations or (self._deadline and time.monotonic() > self._deadline):
                return False
            self.done += 1
            return True

    def _client_loop(self, index):
        rng = random.Random(self.seed * 7919 + index)
        client = ApiClient(self.servers, self.world["token"], self.stats, rng)
        names, weights = zip(*self.mix.items(), strict=True)
        try:
            while self._next():
                # an operation with nothing to act on (a refund without an open order, a cancel
                # without a confirmed redemption) returns False: another one is drawn instead
                while True:
                    operation = rng.choices(names, weights)[0]
                    member = rng.choice(self.members)
                    try:
                        if getattr(self, f"_op_{operation}")(client, rng, member) is not False:
                            break
                    except Exception as exc:  # noqa: BLE001 - a client that breaks is a finding, not a crash
                        with self.stats.lock:
                            self.stats.anomalies.append(f"client {index}: {operation} raised {exc!r}")
                        break
        finally:
            self.sql.close()

    # --- operations: each applies what the API answered to the member's reported points
    def _op_earn(self, client, rng, member):
        amount = rng.choice([rng.randint(10, 999), rng.randint(1000, 20000)])
        order_ref = f"P-{uuid.uuid4().hex[:12]}"
        response = client.call("earn", "POST", "/transactions", {
            "program_id": self.program, "member": rng.choice([member.code, member.mobile]), "order_ref": order_ref,
            "amount": f"{amount}.{rng.randint(0, 99):02d}", "store_ref": rng.choice(self.world["stores"])})
        if response is not None and response.status_code == 201:
            with member.lock:
                member.reported += response.json()["points_earned"]
                member.orders.append([order_ref, amount, 0])

    def _op_refund(self, client, rng, member):
        with member.lock:
            open_orders = [o for o in member.orders if o[2] < o[1]]
            if not open_orders:
                return False
            order = rng.choice(open_orders)
            amount = rng.choice([order[1] - order[2], rng.randint(1, max(1, (order[1] - order[2]) // 2))])
            order[2] += amount  # reserved here: two refunds of one order never exceed it
        response = client.call("refund", "POST", f"/transactions/{order[0]}/refunds", {
            "program_id": self.program, "refund_ref": f"R-{uuid.uuid4().hex[:12]}", "amount": amount})
        with member.lock:
            if response is not None and response.status_code == 201:
                data = response.json()
                member.reported += data.get("points_returned", 0) - data["points_reversed"]
            else:
                order[2] -= amount

    def _op_redeem(self, client, rng, member):
        since = last_sms_id(self.sql)
        points = rng.choice([100, 150, 200, 300, 500])
        with member.lock:
            # half of them pay part of a recorded purchase: a refund of it gives points back
            order_ref = rng.choice(member.orders)[0] if member.orders and rng.random() < 0.5 \
                else f"O-{uuid.uuid4().hex[:12]}"
        started = client.call("redeem", "POST", "/redemptions", {
            "program_id": self.program, "member": member.code, "points": points, "order_ref": order_ref,
            "order_amount": points, "store_ref": rng.choice(self.world["stores"])})
        if started is None or started.status_code != 201:
            return
        redemption = started.json()["redemption_id"]
        if started.json()["status"] == "confirmed":
            self._confirmed(member, redemption, points)
            return
        if rng.random() < 0.1:  # the member walks away: the hold is released by a cancel
            client.call("cancel", "POST", f"/redemptions/{redemption}/cancel", {})
            return
        codes = sms_codes_since(self.sql, member.mobile, since)
        if rng.random() < 0.1:
            codes.insert(0, "000000" if "000000" not in codes else "999999")  # a wrong code first
        for code in codes[:3]:
            answer = client.call("confirm", "POST", f"/redemptions/{redemption}/confirm", {"otp": code})
            if answer is None:
                return
            if answer.status_code == 200:
                self._confirmed(member, redemption, answer.json()["points_redeemed"])
                return
            if _code(answer) != "otp_invalid":
                return

    def _confirmed(self, member, redemption, points):
        with member.lock:
            member.reported -= points
            member.confirmed.append((redemption, points))

    def _op_cancel(self, client, rng, member):
        with member.lock:
            if not member.confirmed:
                return False
            redemption, points = member.confirmed.pop(rng.randrange(len(member.confirmed)))
        response = client.call("cancel", "POST", f"/redemptions/{redemption}/cancel", {})
        with member.lock:
            if response is not None and response.status_code == 200 and response.json()["status"] == "reversed":
                member.reported += response.json()["points_returned"]
            else:
                member.confirmed.append((redemption, points))

    def _op_event(self, client, rng, member):
        response = client.call("event", "POST", "/events", {
            "program_id": self.program, "member": member.code, "event": rng.choice(["checkin", "review"]),
            "ref": f"E-{uuid.uuid4().hex[:12]}"})
        if response is not None and response.status_code == 201:
            with member.lock:
                member.reported += response.json()["points_earned"]

    def _op_lookup(self, client, rng, member):
        client.call("lookup", "GET", f"/members/{member.code}", {"program_id": self.program})


# ----------------------------------------------------------------------
# Faults
# ----------------------------------------------------------------------
class Faults(threading.Thread):
    """While the load runs: ``kill -9`` a random HTTP worker (one in the middle of a request when
    there is one), ``max_kills`` times, and terminate every database connection of the test
    database ``max_drops`` times, as a PostgreSQL restart does to its clients (``drop``).

    With ``load`` (a ``LoadRun``), the kills and drops are spread evenly over its operations
    (kill k happens once ``k / (max_kills + 1)`` of them are done), whatever the run's speed;
    without, a kill every ``kill_every`` seconds and a drop every ``drop_every`` seconds."""

    def __init__(self, servers, cnx_factory, db, *, kill_every=0.5, max_kills=100, drop_every=None,
                 max_drops=5, seed=3, load=None):
        super().__init__(daemon=True)
        self.servers, self.cnx_factory, self.db = servers, cnx_factory, db
        self.kill_every, self.max_kills = kill_every, max_kills
        self.drop_every, self.max_drops = drop_every, max_drops
        self.load = load
        self.rng = random.Random(seed)
        self.kills = self.busy_kills = self.drops = 0
        self.stopped = threading.Event()

    def _due(self, count, most, every, last):
        if count >= most:
            return False
        if self.load is not None:
            return self.load.done >= self.load.operations * (count + 1) / (most + 1)
        return bool(every) and time.monotonic() - last >= every

    def run(self):
        last_kill = last_drop = time.monotonic()
        tick = 0.05 if self.load is not None else min(x for x in (self.kill_every, self.drop_every, 1.0) if x)
        while not self.stopped.wait(tick):
            if self._due(self.kills, self.max_kills, self.kill_every, last_kill):
                last_kill = time.monotonic()
                killed = self.rng.choice(self.servers).kill_worker(self.rng)
                if killed:
                    self.kills += 1
                    self.busy_kills += killed[1]
            if self._due(self.drops, self.max_drops, self.drop_every, last_drop):
                last_drop = time.monotonic()
                with contextlib.suppress(Exception):
                    self.drop()
                    self.drops += 1

    def drop(self):
        """What a PostgreSQL restart does to the servers: every connection to the database ends."""
        with contextlib.closing(self.cnx_factory("postgres")) as cnx:
            cnx.autocommit = True
            with cnx.cursor() as cr:
                cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> pg_backend_pid()", [self.db])

    def stop(self):
        self.stopped.set()
        self.join(timeout=30)


# ----------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------
def check(env, load):
    """Everything that must hold after the load; return a dict of findings (empty lists: whole)."""
    program = env["klodr.program"].browse(load.program)
    cr = env.cr
    findings = {}
    findings["verify"] = [str(b) for b in env["klodr.ledger.entry"]._verify_ledger([program.id])]
    codes = {m.code: m for m in load.members}
    cr.execute("""SELECT m.code, m.balance, COALESCE(SUM(e.points), 0)
                    FROM klodr_member m LEFT JOIN klodr_ledger_entry e ON e.member_id = m.id
                   WHERE m.program_id = %s GROUP BY m.code, m.balance""", [program.id])
    mismatches, negative = [], []
    for code, balance, ledger in cr.fetchall():
        member = codes.get(code)
        if member is None:
            continue
        if not (member.reported == ledger == balance):
            mismatches.append(f"{code}: API reported {member.reported}, ledger {ledger}, balance {balance}")
        if balance < 0:
            negative.append(code)
    findings["reported_vs_ledger"] = mismatches
    findings["unanswered"] = [str(u) for u in load.stats.unanswered]
    # below zero only through refunds: the member's last entry taking it below zero is a refund
    cr.execute("""SELECT m.code FROM klodr_member m
                   WHERE m.program_id = %s AND m.balance < 0 AND NOT EXISTS (
                         SELECT 1 FROM klodr_ledger_entry e WHERE e.member_id = m.id AND e.entry_type = 'refund')""",
               [program.id])
    findings["negative_without_refund"] = [row[0] for row in cr.fetchall()]
    cr.execute("""SELECT t.order_ref, COUNT(*) FROM klodr_transaction t WHERE t.program_id = %s
                   GROUP BY t.order_ref HAVING COUNT(*) > 1""", [program.id])
    findings["orders_twice"] = cr.fetchall()
    cr.execute("""SELECT source_ref, entry_type, COUNT(*) FROM klodr_ledger_entry
                   WHERE program_id = %s AND entry_type IN ('earn', 'redeem') AND source_ref IS NOT NULL
                     AND source_model = 'klodr.transaction'
                   GROUP BY source_ref, entry_type, member_id HAVING COUNT(*) > 1""", [program.id])
    findings["earned_twice"] = cr.fetchall()
    cr.execute("""SELECT r.id FROM klodr_redemption r
                   WHERE r.program_id = %s AND (
                         (SELECT COUNT(*) FROM klodr_ledger_entry e WHERE e.id = r.redeem_entry_id) > 1
                      OR (r.state = 'confirmed' AND r.redeem_entry_id IS NULL)
                      OR (r.state = 'reversed' AND r.reversal_entry_id IS NULL AND r.points_returned < r.points))""",
               [program.id])
    findings["redemptions_inconsistent"] = [row[0] for row in cr.fetchall()]
    # a redeemed point is given back at most once (cancel reversal + refund returns <= redeemed)
    cr.execute("""SELECT r.id FROM klodr_redemption r
                    LEFT JOIN klodr_ledger_entry rev ON rev.id = r.reversal_entry_id
                   WHERE r.program_id = %s AND r.redeem_entry_id IS NOT NULL
                     AND COALESCE(rev.points, 0) + COALESCE((
                         SELECT SUM(f.points_returned) FROM klodr_transaction_refund f
                          WHERE f.program_id = r.program_id AND f.member_id = r.member_id
                            AND f.transaction_id IN (SELECT t.id FROM klodr_transaction t
                                                      WHERE t.program_id = r.program_id
                                                        AND t.order_ref = r.order_ref)), 0)
                         > (SELECT COALESCE(SUM(r2.points), 0) FROM klodr_redemption r2
                             WHERE r2.program_id = r.program_id AND r2.order_ref = r.order_ref
                               AND r2.redeem_entry_id IS NOT NULL)""",
               [program.id])
    findings["given_back_twice"] = [row[0] for row in cr.fetchall()]
    cr.execute("""SELECT COUNT(*) FROM klodr_ledger_hold h
                   WHERE h.program_id = %s AND h.state = 'active'
                     AND h.expires_at > NOW() AT TIME ZONE 'UTC' + interval '1 hour'""", [program.id])
    findings["holds_too_long"] = cr.fetchone()[0] and ["active holds beyond their OTP validity"] or []
    findings["anomalies"] = list(load.stats.anomalies)
    return findings


def failures(findings):
    return {name: items for name, items in findings.items() if items}


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
