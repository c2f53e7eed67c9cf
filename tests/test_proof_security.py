"""Security probe: a POS cashier calls, the way RPC does (``call_kw``: public methods only),
every public method our addons define or override, with crafted arguments (other members'
and other companies' ids, huge and negative points, forged lines and OTPs). No existing
member's points may move, and nothing may be written in the ledger for them.

Everything runs in one transaction that is rolled back at the end.
"""
import contextlib
import inspect
import uuid

import pytest

from odoo import SUPERUSER_ID, api
from odoo.service.model import call_kw

OUR_MODULES = ("odoo.addons.loyalty_klodr",)


def our_public_methods(model):
    """Names of the public methods that one of our addons defines on ``model``'s class."""
    names = set()
    for cls in type(model).mro():
        if not getattr(cls, "__module__", "").startswith(OUR_MODULES):
            continue
        for name, member in vars(cls).items():
            if name.startswith("_") or not callable(member) or getattr(member, "_api_private", False):
                continue
            names.add(name)
    return sorted(names)


def crafted_arguments(ids):
    member, other_member, reward, config, program = ids
    huge, negative = 10**12, -(10**6)
    return [
        [], [[]], [[member]], [[other_member]], [[config]], [[config], member], [[config], other_member],
        [[config], member, huge], [[config], member, negative],
        [[config], {"name": "X", "mobile": "9845099999", "points": huge, "balance": huge}],
        [[config], member, [{"product_id": 1, "qty": 10**6, "price_unit": 10**9, "points": huge}]],
        [[config], str(uuid.uuid4()), member, reward, huge],
        [[config], str(uuid.uuid4()), member, False, huge],
        [[config], 1, "000000"], [[config], 10**9, "123456"], [[config], member, "' OR 1=1 --"],
        [[config], "+919845077001"], [[config], "+919845077002"], [[config], "' OR 1=1 --"],
        [[member], {"balance": huge}], [[member], huge], [[program], huge], [[member], "adjust", huge],
    ]


@pytest.fixture
def probe_env(registry):
    with registry.cursor() as cr:
        try:
            yield api.Environment(cr, SUPERUSER_ID, {})
        finally:
            cr.rollback()


def test_a_cashier_calling_every_public_method_moves_no_points(probe_env):
    env = probe_env
    if "pos.config" not in env or not env["ir.module.module"].search_count(
            [("name", "=", "loyalty_klodr_pos"), ("state", "=", "installed")]):
        pytest.skip("loyalty_klodr_pos is not installed")
    company = env.ref("base.main_company")
    program = env["klodr.program"].create({"name": f"Probe {uuid.uuid4().hex[:6]}", "company_id": company.id,
                                           "otp_required": True, "country_id": env.ref("base.in").id})
    member = env["klodr.member"].create({"program_id": program.id, "name": "Victim", "mobile": "+919845077001"})
    env["klodr.ledger.entry"]._post(member, "earn", 5000, source_ref="opening")
    other_company = env["res.company"].create({"name": f"Other {uuid.uuid4().hex[:6]}"})
    other_program = env["klodr.program"].create({"name": "Other", "company_id": other_company.id,
                                                 "country_id": env.ref("base.in").id})
    other_member = env["klodr.member"].create({"program_id": other_program.id, "name": "Other",
                                               "mobile": "+919845077002"})
    env["klodr.ledger.entry"]._post(other_member, "earn", 5000, source_ref="opening")
    reward = env["klodr.reward"].search([("program_id", "=", program.id)], limit=1)
    config = env["pos.config"].search([("company_id", "=", company.id)], limit=1)
    store = env["klodr.store"].create({"name": "Probe showroom", "code": f"PROBE-{uuid.uuid4().hex[:6]}",
                                       "company_id": company.id})
    config.write({"klodr_program_id": program.id, "klodr_store_id": store.id})
    cashier = env["res.users"].create({
        "name": "Probe cashier", "login": f"probe-{uuid.uuid4().hex[:8]}", "company_id": company.id,
        "company_ids": [(6, 0, company.ids)],
        "group_ids": [(6, 0, [env.ref("base.group_user").id, env.ref("point_of_sale.group_pos_user").id,
                              env.ref("loyalty_klodr.group_loyalty_user").id])]})
    env.cr.execute("SELECT id, balance FROM klodr_member")
    balances_before = dict(env.cr.fetchall())
    env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM klodr_ledger_entry")
    last_entry = env.cr.fetchone()[0]

    user_env = env(user=cashier, context={"allowed_company_ids": company.ids})
    models = sorted({name for name in env.registry if name.startswith("klodr.")} | {"pos.config", "pos.order",
                                                                                     "pos.session", "res.partner"})
    ids = (member.id, other_member.id, reward.id or 0, config.id or 0, program.id)
    calls, probed, answered = 0, set(), set()
    for model_name in models:
        model = user_env[model_name]
        for name in our_public_methods(model):
            probed.add((model_name, name))
            method = getattr(type(model), name)
            for args in crafted_arguments(ids):
                if not getattr(method, "_api_model", False) and not (args and isinstance(args[0], list)):
                    continue  # call_kw takes the ids first for record methods
                with contextlib.suppress(Exception), env.cr.savepoint():
                    calls += 1
                    result = call_kw(model, name, list(args), {})
                    if inspect.isgenerator(result):
                        list(result)
                    user_env.flush_all()
                    answered.add((model_name, name))
    assert calls > 50, "the probe called almost nothing: it proves nothing"
    # the cashier's whole RPC surface was probed, and the harmless calls really ran
    for name in ("klodr_find_member", "klodr_enroll_member", "klodr_preview_points", "klodr_start_redemption",
                 "klodr_confirm_redemption", "klodr_cancel_redemption"):
        assert ("pos.config", name) in probed, name
    assert ("pos.config", "klodr_find_member") in answered

    env.invalidate_all()
    env.cr.execute("SELECT id, balance FROM klodr_member WHERE id = ANY(%s)", [list(balances_before)])
    balances_after = dict(env.cr.fetchall())
    assert balances_after == balances_before, "a cashier's RPC call moved points"
    env.cr.execute("SELECT id, member_id, entry_type, points FROM klodr_ledger_entry "
                   "WHERE id > %s AND member_id = ANY(%s)", [last_entry, list(balances_before)])
    assert env.cr.fetchall() == []
    breaks = env["klodr.ledger.entry"]._verify_ledger([program.id, other_program.id])
    assert breaks == []
