import copy
from contextlib import contextmanager
from unittest.mock import patch

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.loyalty_klodr.tests.common import otp_outbox
from odoo.addons.point_of_sale.tests.common import TestPoSCommon

OTP = "424242"


class KlodrPosCommon(TestPoSCommon):
    """A shop (``config``) linked to a loyalty program and store, three products with three
    tax sets (7% excluded, 10% included, none), a member with 1,000 points and a cashier
    with only the Point of Sale user rights; a session is open in every test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("loyalty_klodr.group_loyalty_manager")
        cls.config = cls.basic_config
        company = cls.config.company_id
        cls.program = cls.env["klodr.program"].create({
            "name": "POS Rewards", "company_id": company.id, "point_value": 0.25, "min_redeem_balance": 100,
            "max_redeem_share": 50, "otp_required": True, "country_id": cls.env.ref("base.in").id,
            "tz": "Asia/Kolkata",
        })
        cls.env["klodr.earn.rule"].create({"name": "1 point per 10", "program_id": cls.program.id,
                                           "kind": "amount", "points": 1, "spend_unit": 10})
        cls.store = cls.env["klodr.store"].create({"name": "Showroom", "code": "POS-1", "company_id": company.id})
        cls.config.write({"klodr_program_id": cls.program.id, "klodr_store_id": cls.store.id})
        cls.tax7, cls.tax10 = cls.taxes["tax7"], cls.taxes["tax10"]
        categ = cls.categ_basic
        cls.shirt = cls.create_product("Shirt", categ, 333.33, tax_ids=cls.tax7.ids)
        cls.saree = cls.create_product("Saree", categ, 1234.57, tax_ids=cls.tax10.ids)
        cls.book = cls.create_product("Book", categ, 99.99)
        cls.mug = cls.create_product("Mug", categ, 150.0, tax_ids=cls.tax10.ids)
        cls.reward_50 = cls.env["klodr.reward"].create({
            "name": "Discount 50", "program_id": cls.program.id, "reward_type": "discount_fixed",
            "points_cost": 200, "value": 50})
        cls.reward_mug = cls.env["klodr.reward"].create({
            "name": "Free Mug", "program_id": cls.program.id, "reward_type": "free_product",
            "points_cost": 300, "product_id": cls.mug.id})
        cls.member = cls.env["klodr.member"].create({
            "name": "Priya POS", "program_id": cls.program.id, "mobile": "98450 11111"})
        cls.env["klodr.ledger.entry"]._post(cls.member, "earn", 1000, source_ref="opening")
        cls.cashier = new_test_user(cls.env, login="klodr_pos_cashier", company_id=company.id,
                                    company_ids=[Command.set(company.ids)],
                                    groups="base.group_user,point_of_sale.group_pos_user")

    def setUp(self):
        super().setUp()
        self.open_new_session()

    # ------------------------------------------------------------------
    def cashier_config(self):
        return self.config.with_user(self.cashier)

    def line_args(self):
        return [(self.shirt, 2), (self.saree, 1), (self.book, 3)]

    def order_data(self, line_args=None, member=True, extra_lines=(), **values):
        data = self.create_ui_order_data(line_args or self.line_args(), pos_order_ui_args=values)
        data.setdefault("access_token", data["uuid"])
        if member:
            data["klodr_member_code"] = self.member.code
        for line in extra_lines:
            data["lines"].append((0, 0, dict(line)))
        if extra_lines:  # the payment follows the lines
            total = sum(line[2]["price_subtotal_incl"] for line in data["lines"])
            data["amount_total"] = data["amount_paid"] = total
            data["payment_ids"][0][2]["amount"] = total
        return data

    def sync(self, data):
        self.env["pos.order"].sync_from_ui([copy.deepcopy(data)])
        return self.env["pos.order"].search([("uuid", "=", data["uuid"])])

    def browser_lines(self, order_lines):
        """The lines as the browser sends them to the loyalty methods."""
        return [{"product_id": vals["product_id"], "qty": vals["qty"], "price_unit": vals["price_unit"],
                 "discount": vals.get("discount", 0), "tax_ids": vals["tax_ids"][0][2],
                 "klodr_reward": vals.get("klodr_reward_line", False)}
                for _c, _i, vals in order_lines]

    def ui_reward_lines(self, answer):
        """The order lines the browser adds from a redemption answer (as the POS serializes them)."""
        lines = []
        for vals in answer["lines"]:
            product = self.env["product.product"].browse(vals["product_id"])
            taxes = self.env["account.tax"].browse(vals["tax_ids"])
            price = vals["price_unit"] * (1 - vals["discount"] / 100)
            totals = taxes.compute_all(price, self.currency, vals["qty"], product=product) if taxes else {
                "total_excluded": price * vals["qty"], "total_included": price * vals["qty"]}
            lines.append({"product_id": product.id, "qty": vals["qty"], "price_unit": vals["price_unit"],
                          "discount": vals["discount"], "tax_ids": [(6, 0, taxes.ids)],
                          "price_subtotal": totals["total_excluded"], "price_subtotal_incl": totals["total_included"],
                          "klodr_reward_line": True, "pack_lot_ids": []})
        return lines

    @contextmanager
    def fixed_otp(self):
        """Codes are delivered to the test (and are always ``OTP``)."""
        with otp_outbox(self.registry) as sent, \
                patch.object(self.registry["klodr.redemption"], "_generate_otp", lambda self: OTP):
            yield sent

    def redeem(self, data, **kwargs):
        """Start and authorize a redemption for the order ``data`` at the counter, as the cashier."""
        config = self.cashier_config()
        lines = self.browser_lines(data["lines"])
        with self.fixed_otp():
            started = config.klodr_start_redemption(data["uuid"], self.member.id, lines=lines, **kwargs)
            self.assertNotIn("error", started, started)
            answer = config.klodr_confirm_redemption(started["redemption_id"], OTP, lines)
        self.assertEqual(answer["status"], "authorized", answer)
        return answer
