"""Server time of ``pos.order.sync_from_ui`` for a 3-line paid order with a member, three ways.

- **no loyalty**: the point of sale has no loyalty program;
- **Klodr**: the point of sale has a Klodr program and the order a member (the server values the
  lines, earns with the rules, writes the ledger);
- **pos_loyalty** (when Odoo's ``pos_loyalty`` is installed in the database): a loyalty program
  (1 point per currency unit) and the member's card, with the calls its front end makes around a
  paid order: ``validate_coupon_programs``, ``sync_from_ui``, ``confirm_coupon_programs``.

Runs in an existing database where ``loyalty_klodr_pos`` (and, for the third way, ``pos_loyalty``)
is installed, inside one transaction that is rolled back: nothing is left behind. Each order is
timed with its flush; the median of ``--runs`` orders is printed.

    python3 bench/bench_pos_sync.py --db klodr_pos [--runs 30]
"""
import argparse
import statistics
import time
import uuid

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry


def order_data(session, products, member_code=None, partner=None):
    lines, total = [], 0.0
    for product in products:
        taxes = product.taxes_id.filtered(lambda t: t.company_id == session.config_id.company_id)
        price = product.lst_price
        amounts = taxes.compute_all(price, session.currency_id, 1, product=product) if taxes else {
            "total_excluded": price, "total_included": price}
        total += amounts["total_included"]
        lines.append((0, 0, {"product_id": product.id, "qty": 1, "price_unit": price, "discount": 0,
                             "tax_ids": [(6, 0, taxes.ids)], "price_subtotal": amounts["total_excluded"],
                             "price_subtotal_incl": amounts["total_included"], "pack_lot_ids": []}))
    cash = session.config_id.payment_method_ids[:1]
    uid = str(uuid.uuid4())
    return {
        "uuid": uid, "access_token": uid, "name": f"Bench {uid}", "session_id": session.id,
        "pricelist_id": session.config_id.pricelist_id.id, "partner_id": partner.id if partner else False,
        "user_id": session.env.uid, "date_order": odoo.fields.Datetime.to_string(odoo.fields.Datetime.now()),
        "amount_paid": total, "amount_total": total, "amount_tax": 0, "amount_return": 0, "lines": lines,
        "payment_ids": [(0, 0, {"amount": total, "payment_method_id": cash.id,
                                "name": odoo.fields.Datetime.now()})],
        "last_order_preparation_change": "{}", "to_invoice": False, "state": "paid",
        **({"klodr_member_code": member_code} if member_code else {}),
    }


class _Rollback(Exception):
    pass


def timed_rounds(env, runs, ways):
    """Median time of each way's ``call(make())`` with its flush, the ways interleaved round by
    round (a changing machine load hits them alike); every order is rolled back after."""
    times = {name: [] for name in ways}
    for _ in range(runs):
        for name, (make, call) in ways.items():
            data = make()
            try:
                with env.cr.savepoint():
                    start = time.perf_counter()
                    call(data)
                    env.flush_all()
                    times[name].append((time.perf_counter() - start) * 1000)
                    raise _Rollback
            except _Rollback:
                env.invalidate_all()
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("-c", "--config", default=None, help="Odoo configuration file")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-earn-sms", action="store_true",
                        help="turn off the program's 'points earned' SMS (loyalty_klodr_sms) for the run")
    args = parser.parse_args()
    odoo.tools.config.parse_config([f"--config={args.config}"] if args.config else [])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        admin = api.Environment(cr, SUPERUSER_ID, {}).ref("base.user_admin")
        admin.group_ids |= admin.env.ref("loyalty_klodr.group_loyalty_manager") | admin.env.ref(
            "point_of_sale.group_pos_manager")
        env = api.Environment(cr, admin.id, {})
        def open_config(name, **values):
            config = env["pos.config"].create({"name": f"Bench {name} {uuid.uuid4().hex[:6]}", **values})
            config.open_ui()
            config.current_session_id.set_opening_control(0, None)
            return config

        # Services: no picking, so the figures are the order's and the loyalty's own.
        products = env["product.product"].create([
            {"name": f"Bench {name}", "type": "service", "available_in_pos": True, "list_price": price}
            for name, price in (("Saree", 1499.0), ("Shirt", 799.0), ("Scarf", 349.0))])
        program = env.ref("loyalty_klodr.klodr_program_demo", raise_if_not_found=False) or env[
            "klodr.program"].search([], limit=1)
        if args.no_earn_sms and "sms_notify_earn_redeem" in program._fields:
            program.sms_notify_earn_redeem = False
        member = env["klodr.member"].search([("program_id", "=", program.id), ("state", "=", "active")], limit=1)
        Order = env["pos.order"]

        def sync(data):
            Order.sync_from_ui([data])

        # One point of sale per way, opened once: nothing is written between the timed orders.
        plain = open_config("plain")
        klodr = open_config("klodr", klodr_program_id=program.id)
        session, klodr_session = plain.current_session_id, klodr.current_session_id

        ways = {
            "no loyalty": (lambda: order_data(session, products), sync),
            "Klodr (member, earn)": (lambda: order_data(klodr_session, products, member_code=member.code), sync),
        }
        if "loyalty.program" in env and "pos_ok" in env["loyalty.program"]._fields:
            partner = env["res.partner"].create({"name": "Bench Member"})
            loyalty = env["loyalty.program"].create({
                "name": "Bench Loyalty", "program_type": "loyalty", "trigger": "auto", "applies_on": "both",
                "pos_ok": True, "pos_config_ids": [(6, 0, plain.ids)],
                "rule_ids": [(0, 0, {"reward_point_mode": "money", "reward_point_amount": 1})],
                "reward_ids": [(0, 0, {"reward_type": "discount", "required_points": 100, "discount": 10,
                                       "discount_mode": "per_order"})]})
            card = env["loyalty.card"].create({"program_id": loyalty.id, "partner_id": partner.id, "points": 0})

            def pos_loyalty(data):
                points = round(data["amount_total"])
                Order.validate_coupon_programs({str(card.id): points}, [])
                result = Order.sync_from_ui([data])
                order = Order.browse(result["pos.order"][0]["id"])
                order.confirm_coupon_programs({str(card.id): {"program_id": loyalty.id, "coupon_id": card.id,
                                                              "points": points, "won": points, "spent": 0}})

            ways["pos_loyalty (validate + sync + confirm)"] = (
                lambda: order_data(session, products, partner=partner), pos_loyalty)
        timed_rounds(env, 3, ways)  # warm-up
        results = timed_rounds(env, args.runs, ways)
        cr.rollback()
    base = results["no loyalty"]
    print(f"sync_from_ui, 3-line paid order, median of {args.runs} (ms, in process, flushed):")
    for name, value in results.items():
        print(f"  {name:<42} {value:7.1f}  (+{value - base:5.1f})")
    if "pos_loyalty (validate + sync + confirm)" in results:
        ours = results["Klodr (member, earn)"] - base
        theirs = results["pos_loyalty (validate + sync + confirm)"] - base
        print(f"  added cost ratio Klodr / pos_loyalty: {ours / theirs:.2f} (goal <= 0.5)")


if __name__ == "__main__":
    main()
