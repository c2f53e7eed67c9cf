"""Fixtures for the cross-addon tests: real, committed transactions on the test database.

These tests run under pytest-odoo against a database where the addons are
installed. Unlike Odoo's TransactionCase, they commit: concurrency can only be
tested with transactions that really overlap. Every test works in a program of
its own, so what it leaves behind never disturbs another test.
"""
import contextlib
import itertools
import threading
import uuid

import pytest

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.service.model import retrying


def _db_name():
    name = odoo.tools.config["db_name"]
    return name[0] if isinstance(name, (list, tuple)) else name


@pytest.fixture(scope="session")
def registry():
    return Registry(_db_name())


class Committed:
    """Run functions in their own committed transactions, as concurrent requests would."""

    def __init__(self, registry):
        self.registry = registry

    def __call__(self, func, retry=False):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if retry:
                return retrying(lambda: func(env), env)
            return func(env)

    def in_threads(self, funcs, retry=False, barrier_timeout=30):
        """Start ``funcs`` in parallel transactions that all begin before any commits.

        Each func receives its env after every transaction took its snapshot.
        :return: list of ``(result, exception)`` in the order of ``funcs``.
        """
        barrier = threading.Barrier(len(funcs), timeout=barrier_timeout)
        outcomes = [None] * len(funcs)
        first_try = [True] * len(funcs)

        def run(index, func):
            def attempt(env):
                env.cr.execute("SELECT 1")  # the snapshot of REPEATABLE READ starts here
                if first_try[index]:
                    first_try[index] = False
                    barrier.wait()
                return func(env)
            try:
                outcomes[index] = (self(attempt, retry=retry), None)
            except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
                outcomes[index] = (None, exc)

        threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(funcs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a transaction never finished"
        return outcomes


@pytest.fixture(scope="session")
def committed(registry):
    return Committed(registry)


_mobiles = itertools.count(1)


@pytest.fixture
def program(committed):
    """A fresh program with one store, committed; returns its id."""
    def create(env):
        program = env["klodr.program"].create({
            "name": f"Concurrency {uuid.uuid4().hex[:8]}", "company_id": env.ref("base.main_company").id,
            "expiry_policy": "months", "expiry_months": 12,
        })
        return program.id
    return committed(create)


@pytest.fixture
def new_member(committed, program):
    """Factory: a committed member of ``program`` with ``points`` earned."""
    def make(points=0):
        def create(env):
            number = f"+9198{uuid.uuid4().int % 10**8:08d}"
            member = env["klodr.member"].create({
                "name": f"Member {next(_mobiles)}", "program_id": program, "mobile": number})
            if points:
                env["klodr.ledger.entry"]._post(member, "earn", points, source_ref="opening")
            return member.id
        return committed(create)
    return make


@pytest.fixture
def verify(committed, program):
    def check():
        breaks = committed(lambda env: [str(b) for b in env["klodr.ledger.entry"]._verify_ledger([program])])
        assert breaks == []
    return check


def _free_port():
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def odoo_server(registry):
    """A real Odoo HTTP server (a separate, multi-threaded process) on the test database.

    Requests run in their own committed transactions, as in production.
    """
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import time  # noqa: PLC0415

    import requests  # noqa: PLC0415

    config = odoo.tools.config
    port = _free_port()
    args = [sys.executable, "-m", "odoo", "-d", _db_name(), "--addons-path", config["addons_path"]
            if isinstance(config["addons_path"], str) else ",".join(config["addons_path"]),
            "--http-interface", "127.0.0.1", "--http-port", str(port),
            "--workers", "0", "--max-cron-threads", "0", "--log-level", "warn", "--db-filter", f"^{_db_name()}$"]
    for option, flag in (("db_host", "--db_host"), ("db_port", "--db_port"), ("db_user", "--db_user"),
                         ("db_password", "--db_password")):
        if config.get(option):
            args += [flag, str(config[option])]
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"klodr-test-server-{port}.log"), "w")  # noqa: SIM115
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):  # not listening yet
            if requests.get(f"{base}/web/health", timeout=2).status_code == 200:
                break
        if process.poll() is not None:
            raise RuntimeError(f"the Odoo server exited: see {log.name}")
        time.sleep(0.5)
    else:
        process.kill()
        raise RuntimeError(f"the Odoo server did not start in 120 s: see {log.name}")
    yield base
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
