"""Earn-rule evaluation time per order: a 10-line basket against 20 active rules.

Three layers, each timed many times in this process:
- the pure evaluator (``tools.rules.evaluate``) on prepared rules;
- ``klodr.member._evaluate``: the same plus what the ORM gathers (rules,
  campaigns, segment check, cap usage query);
- ``klodr.member._earn_order`` with its commit: evaluation plus the
  transaction, ledger entries, breakdown rows and tier recompute.
Baseline in the same run: the ORM reading those 20 rules (``search_read``),
the least an evaluation that starts from the database must do.
"""
import random
import statistics
import time
from datetime import datetime
from decimal import Decimal

import _common as common


def build(env):
    program = common.create_program(env, name="Rules bench")
    program.tz = "Asia/Kolkata"
    tiers = [env["klodr.tier"].create({"name": n, "program_id": program.id, "threshold_points": t, "multiplier": m})
             for n, t, m in (("Bronze", 0, 1.0), ("Silver", 1000, 1.25), ("Gold", 5000, 1.5))]
    categories = [env["product.category"].create({"name": f"Bench category {i}"}) for i in range(8)]
    products = [env["product.product"].create({"name": f"Bench product {i}", "categ_id": categories[i % 8].id,
                                               "lst_price": 100 + 37 * i}) for i in range(10)]
    store = env["klodr.store"].create({"name": "Bench store", "code": "BENCH"})
    Rule = env["klodr.earn.rule"]
    base = {"program_id": program.id}
    Rule.create(dict(base, name="1 per 10", kind="amount", points=1, spend_unit=10))
    Rule.create(dict(base, name="Bands", kind="bands", tier_multiplied=False, entry_type="bonus", points=0,
                     band_ids=[(0, 0, {"amount_from": 5000, "amount_to": 10000, "points": 100}),
                               (0, 0, {"amount_from": 10000, "points": 250})]))
    for i, category in enumerate(categories):  # 8 category rules
        Rule.create(dict(base, name=f"Category {i}", kind="amount", points=2, spend_unit=100,
                         product_category_ids=[(6, 0, category.ids)], cap_day=1000, cap_unit="points"))
    for i, product in enumerate(products[:4]):  # 4 per-unit product rules
        Rule.create(dict(base, name=f"Product {i}", kind="per_unit", points=5, product_ids=[(6, 0, product.ids)]))
    Rule.create(dict(base, name="Weekend", kind="fixed", points=25, weekdays="67", tier_multiplied=False))
    Rule.create(dict(base, name="Store", kind="fixed", points=10, store_ids=[(6, 0, store.ids)]))
    Rule.create(dict(base, name="Gold extra", kind="fixed", points=30, tier_ids=[(6, 0, tiers[2].ids)]))
    for event, points in (("signup", 100), ("checkin", 20), ("review", 50)):
        Rule.create(dict(base, name=event, kind="event", event=event, points=points, tier_multiplied=False,
                         cap_day=1))
    assert Rule.search_count([("program_id", "=", program.id), ("active", "=", True)]) == 20
    env["klodr.campaign"].create({"program_id": program.id, "name": "Double", "multiplier": 2.0,
                                  "date_from": "2020-01-01", "date_to": "2099-12-31"})
    members = env["klodr.member"]
    for i in range(50):
        members |= env["klodr.member"].create({"name": f"Bench {i}", "program_id": program.id,
                                               "mobile": common.mobile_number(i)})
    return program, members, products, store


def basket(products, rng):
    from odoo.addons.loyalty_klodr.tools import rules as pure  # noqa: PLC0415

    lines = []
    for product in products:  # 10 lines
        quantity = rng.randint(1, 3)
        lines.append(pure.Line(amount=Decimal(str(product.lst_price * quantity)), quantity=Decimal(quantity),
                               product=str(product.id),
                               categories=frozenset(product.categ_id.parent_path.strip("/").split("/"))))
    return tuple(lines), sum((line.amount for line in lines), Decimal(0))


def main():
    parser = common.make_parser(__doc__.splitlines()[0], "klodr_bench_rules")
    parser.add_argument("--runs", type=int, default=2000)
    args = common.parse_args(parser)
    common.create_database(args)
    registry = common.load_registry(args)
    from odoo.addons.loyalty_klodr.tools import rules as pure  # noqa: PLC0415

    rng = random.Random(7)
    with common.odoo_env(registry) as env:
        program, members, products, store = build(env)
        ids = (program.id, members.ids, [p.id for p in products], store.id)
    rows, results = [], {}
    with common.odoo_env(registry) as env:
        program = env["klodr.program"].browse(ids[0])
        members = env["klodr.member"].browse(ids[1])
        products = env["product.product"].browse(ids[2])
        store = env["klodr.store"].browse(ids[3])
        lines, amount = basket(products, rng)
        member = members[0]
        when = datetime(2026, 7, 18, 12, 0)
        order = pure.Order(amount=amount, when=when, lines=lines, store=store.id)
        rules = program.rule_ids.filtered("active")
        pure_rules = [rule._to_pure(member) for rule in rules]
        context = member._rule_context(rules, when)
        campaigns = [c._to_pure(member) for c in program.campaign_ids]
        points = pure.evaluate(pure_rules, context, order=order, campaigns=campaigns).points
        common.log(f"basket of {len(lines)} lines, {amount}, {len(rules)} active rules: {points} points")

        def read_rules():
            env.invalidate_all()
            env["klodr.earn.rule"].search_read([("program_id", "=", program.id), ("active", "=", True)],
                                               ["name", "kind", "points", "spend_unit"])

        def orm_evaluate():
            env.invalidate_all()
            member._evaluate(order=order)

        for label, func in (
                ("baseline: ORM search_read of the 20 rules", read_rules),
                ("pure evaluate (tools.rules)", lambda: pure.evaluate(pure_rules, context, order=order,
                                                                       campaigns=campaigns)),
                ("member._evaluate (ORM gathers + pure)", orm_evaluate)):
            samples = common.timed_ms(func, args.runs)
            results[label] = {"median_ms": statistics.median(samples), "p99_ms": common.percentile(samples, 0.99)}
            rows.append((label, f"{statistics.median(samples):.3f}", f"{common.percentile(samples, 0.99):.3f}",
                         args.runs))

    earn = []
    for number in range(min(args.runs, 500)):
        with common.odoo_env(registry) as env:
            member = env["klodr.member"].browse(ids[1][number % len(ids[1])])
            started = time.perf_counter()
            member._earn_order(amount, order_ref=f"BENCH-{number}", lines=lines,
                               store=env["klodr.store"].browse(ids[3]))
            env.cr.commit()
            earn.append((time.perf_counter() - started) * 1000)
    earn.sort()
    label = "member._earn_order + commit (entries, breakdown, tier)"
    results[label] = {"median_ms": statistics.median(earn), "p99_ms": common.percentile(earn, 0.99)}
    rows.append((label, f"{statistics.median(earn):.3f}", f"{common.percentile(earn, 0.99):.3f}", len(earn)))
    common.print_table(["measure (10-line basket, 20 active rules)", "median ms", "p99 ms", "runs"], rows)
    with common.odoo_env(registry) as env:
        breaks = env["klodr.ledger.entry"]._verify_ledger(program_ids=[ids[0]])
    common.log(f"verify after the earns: {len(breaks)} breaks")
    common.save_results("bench_rules", args, results)
    common.drop_database(args, drop=not args.keep)


if __name__ == "__main__":
    main()
