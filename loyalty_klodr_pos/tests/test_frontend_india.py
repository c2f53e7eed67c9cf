"""An Indian company's POS in a real Chromium: the receipt's loyalty block, amount in words
(en_IN, the cashier working in Hindi) and HSN summary after a loyalty discount; and the
browser's offline port of the amount in words against the Python function."""
import json
import random
from contextlib import ExitStack
from decimal import Decimal
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.loyalty_klodr.tests.common import otp_outbox
from odoo.addons.loyalty_klodr.tools.amount_words import indian_amount_in_words
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

OTP = "424242"


def amounts_to_compare(count=4000, seed=19):
    """Boundaries of every scale (paise, hundred, thousand, lakh, crore, beyond num2words), halves
    of a paisa, negatives, then random amounts of every size with 0 to 3 decimals."""
    amounts = [0, 0.004, 0.005, 0.5, 1.005, 1.995, 2.675, 0.125, 99.995, -20.25, -0.001, 100000.01,
               12345678.9, 131599.99, 132035.4, 10**12, 123456789012.34, 1e-7]
    for power in range(0, 15):
        for delta in (-1, 0, 1, 99, 101, 1000):
            amounts.append(max(10**power + delta, 0))
    amounts += list(range(0, 1200))
    rnd = random.Random(seed)
    for _i in range(count):
        value = rnd.randint(0, 10 ** rnd.randint(0, 14))
        if rnd.random() < 0.7:
            value = round(value + rnd.random(), rnd.choice((0, 1, 2, 3)))
        amounts.append(-value if rnd.random() < 0.1 else value)
    return amounts


@tagged("post_install", "-at_install")
class TestKlodrPosIndiaUi(TestPointOfSaleHttpCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("in")
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.user.group_ids |= env.ref("loyalty_klodr.group_loyalty_manager")
        company = cls.main_pos_config.company_id
        company.write({"state_id": env.ref("base.state_in_gj").id, "vat": "24AAGCC7144L6ZE",
                       "l10n_in_is_gst_registered": True})
        cls.program = env["klodr.program"].create({
            "name": "Showroom Rewards", "company_id": company.id, "point_value": 0.25, "min_redeem_balance": 100,
            "otp_required": True, "country_id": env.ref("base.in").id, "tz": "Asia/Kolkata"})
        env["klodr.earn.rule"].create({"name": "1 point per 100", "program_id": cls.program.id, "kind": "amount",
                                       "points": 1, "spend_unit": 100})
        env["klodr.tier"].create([
            {"name": "Silver", "code": "silver", "program_id": cls.program.id, "threshold_points": 1000},
            {"name": "Gold", "code": "gold", "program_id": cls.program.id, "threshold_points": 5000}])
        env["klodr.reward"].create({"name": "Discount 252", "program_id": cls.program.id,
                                    "reward_type": "discount_fixed", "points_cost": 1008, "value": 252})
        store = env["klodr.store"].create({"name": "Ahmedabad", "code": "AMD", "company_id": company.id})
        cls.main_pos_config.write({"klodr_program_id": cls.program.id, "klodr_store_id": store.id})
        gst_5 = env["account.chart.template"].with_company(company).ref("sgst_sale_5")
        for name, price, hsn in (("Klodr Saree", 125000, "5007"), ("Klodr Shirt", 1000, "6205"),
                                 ("Klodr Dupatta", 333.33, "6214")):
            env["product.product"].create({"name": name, "available_in_pos": True, "list_price": price,
                                           "l10n_in_hsn_code": hsn, "taxes_id": [Command.set(gst_5.ids)]})
        cls.member = env["klodr.member"].create({
            "name": "Priya India", "program_id": cls.program.id, "mobile": "+91 98450 22222"})
        cls.member._earn_order(120000, order_ref="seed")  # 1,200 points: Silver
        cls.member.sudo().write({"code": "KLINDIA"})
        env["res.lang"]._activate_lang("hi_IN")
        cls.pos_user.lang = "hi_IN"

    def test_receipt_words_loyalty_and_hsn_summary_in_hindi(self):
        self.assertEqual(self.member.balance, 1200)
        with ExitStack() as stack:
            sent = stack.enter_context(otp_outbox(self.registry))
            stack.enter_context(patch.object(self.registry["klodr.redemption"], "_generate_otp", lambda self: OTP))
            self.start_pos_tour("KlodrPosIndiaReceiptTour", login="pos_user")
        self.assertEqual([code for _id, code in sent], [OTP])
        order = self.env["pos.order"].search([("klodr_member_id", "=", self.member.id)])
        self.assertEqual(order.amount_total, 132035.40)
        self.assertEqual(order.klodr_amount_words, indian_amount_in_words(Decimal("132035.40")))
        self.assertEqual((order.klodr_points_earned, order.klodr_points_redeemed, order.klodr_balance),
                         (1320, 1008, 1512))
        rewards = order.lines.filtered("klodr_reward_line")
        self.assertEqual(sorted((line.price_unit, line.l10n_in_hsn_code) for line in rewards),
                         [(-250.0, "5007"), (-2.0, "6205")])
        self.assertEqual(self.member.balance, 1512)

    def test_offline_words_match_python(self):
        """The browser's port (static/src/app/amount_words.js, as the POS bundle serves it) gives
        the Python function's words on thousands of amounts."""
        cases = [[amount, indian_amount_in_words(amount)] for amount in amounts_to_compare()]
        self.assertEqual(cases[0][1], "Rupees Zero Only")
        module = "@loyalty_klodr_pos/app/amount_words"
        code = f"""
            const {{ indianAmountInWords }} = odoo.loader.modules.get("{module}");
            const cases = {json.dumps(cases)};
            const wrong = [];
            for (const [amount, words] of cases) {{
                let got;
                try {{ got = indianAmountInWords(amount); }} catch (error) {{ got = String(error); }}
                if (got !== words) {{ wrong.push([amount, got, words]); }}
            }}
            if (wrong.length) {{
                console.error(`${{wrong.length}} of ${{cases.length}} differ: ${{JSON.stringify(wrong.slice(0, 5))}}`);
            }} else {{
                console.log(`${{cases.length}} amounts agree`);
                console.log("test successful");
            }}
        """
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.browser_js(f"/pos/ui/{self.main_pos_config.id}", code, login="pos_user", timeout=120,
                        ready=f"!!window.odoo?.loader?.modules.get('{module}')")
