"""What the receipt of an Indian company gets from the sync: the amount in words (en_IN, in any
language, only for a paid rupee order of an Indian company) and loyalty discount lines that
carry the HSN they discount."""
import copy
from decimal import Decimal

from odoo import Command
from odoo.tests import Form, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.loyalty_klodr.tools.amount_words import indian_amount_in_words

from .common import KlodrPosCommon

# Shirt 2 x 333.33 + 7% (excluded) = 713.33; Saree 1,234.57 (10% included); Book 3 x 99.99 = 299.97
TOTAL_WORDS = "Rupees Two Thousand Two Hundred and Forty-Seven and Eighty-Seven Paise Only"


class ReceiptMixin:
    def sync_answer(self, data, lang="en_US"):
        """The answer the browser gets from the sync, in the cashier's language."""
        answer = self.env["pos.order"].with_user(self.cashier).with_context(lang=lang).sync_from_ui(
            [copy.deepcopy(data)])
        self.env.invalidate_all()
        return answer


@tagged("post_install", "-at_install")
class TestIndianReceipt(ReceiptMixin, KlodrPosCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("in")
    def setUpClass(cls):
        super().setUpClass()
        company = cls.config.company_id
        # TestPoSCommon moves its company to a test country: back to India (as l10n_in_pos tests do).
        company.write({"country_id": cls.env.ref("base.in").id, "state_id": cls.env.ref("base.state_in_gj").id})
        cls.env["res.lang"]._activate_lang("hi_IN")

    def test_words_reach_the_receipt_with_the_sync(self):
        self.assertEqual((self.config.company_id.country_id.code, self.config.currency_id.name), ("IN", "INR"))
        answer = self.sync_answer(self.order_data())
        [order] = answer["pos.order"]
        self.assertAlmostEqual(order["amount_total"], 2247.87, places=2)
        self.assertEqual(order["klodr_amount_words"], TOTAL_WORDS)
        self.assertEqual(order["klodr_amount_words"], indian_amount_in_words(Decimal("2247.87")))
        self.assertTrue(order["klodr_synced"])

    def test_backend_order_form_shows_the_words(self):
        answer = self.sync_answer(self.order_data())
        order = self.env["pos.order"].browse(answer["pos.order"][0]["id"])
        form = Form(order)  # the order form of point_of_sale, with this addon's view inherited
        self.assertEqual(form.klodr_amount_words, TOTAL_WORDS)
        arch = self.env["pos.order"].get_view(self.env.ref("point_of_sale.view_pos_pos_form").id)["arch"]
        self.assertIn('name="klodr_amount_words"', arch)

    def test_words_stay_en_in_in_hindi(self):
        self.cashier.lang = "hi_IN"
        answer = self.sync_answer(self.order_data(), lang="hi_IN")
        self.assertEqual(answer["pos.order"][0]["klodr_amount_words"], TOTAL_WORDS)
        order = self.env["pos.order"].with_context(lang="hi_IN").browse(answer["pos.order"][0]["id"])
        self.assertEqual(order.klodr_amount_words, TOTAL_WORDS)
        # the currency's own amount_to_text would have spoken the user's language instead
        self.assertNotEqual(order.currency_id.with_context(lang="hi_IN").amount_to_text(order.amount_total),
                            TOTAL_WORDS)

    def test_what_the_browser_sends_is_not_printed(self):
        data = self.order_data(klodr_amount_words="Rupees One Crore Only")
        data["lines"][0][2]["klodr_hsn_code"] = "9999"  # not a discount line
        answer = self.sync_answer(data)
        self.assertEqual(answer["pos.order"][0]["klodr_amount_words"], TOTAL_WORDS)
        self.assertEqual({line["klodr_hsn_code"] for line in answer["pos.order.line"]}, {False})

    def test_no_words_before_payment(self):
        """A draft's amount can still change in the browser: the server gives no words for it."""
        data = self.order_data()
        answer = self.sync_answer(dict(data, state="draft", payment_ids=[], amount_paid=0))
        self.assertFalse(answer["pos.order"][0]["klodr_amount_words"])

    def test_refund_reads_minus(self):
        order = self.sync(self.order_data(line_args=[(self.book, 1)]))
        refund_data = self.create_ui_order_data([], pos_order_ui_args={})
        refund_data["lines"] = [(0, 0, {
            "product_id": self.book.id, "qty": -1, "price_unit": 99.99, "discount": 0, "tax_ids": [(6, 0, [])],
            "price_subtotal": -99.99, "price_subtotal_incl": -99.99, "refunded_orderline_id": order.lines.id,
            "pack_lot_ids": []})]
        refund_data.update(amount_total=-99.99, amount_paid=-99.99, amount_tax=0)
        refund_data["payment_ids"][0][2]["amount"] = -99.99
        refund = self.sync(refund_data)
        self.assertEqual(refund.klodr_amount_words, "Minus Rupees Ninety-Nine and Ninety-Nine Paise Only")

    # ------------------------------------------------------------------
    # HSN of the loyalty discount lines
    # ------------------------------------------------------------------
    def hsn_setup(self):
        if "l10n_in_hsn_code" not in self.env["pos.order.line"]._fields:
            self.skipTest("l10n_in_pos (HSN on POS lines) is not installed")
        self.shirt.l10n_in_hsn_code = "6205"
        self.book.l10n_in_hsn_code = "4901"
        # a second HSN under the shirt's tax set
        self.dupatta = self.create_product("Dupatta", self.categ_basic, 100.0, tax_ids=self.tax7.ids)
        self.dupatta.l10n_in_hsn_code = "6214"

    def reward_lines_with_hsn(self, answer):
        lines = self.ui_reward_lines(answer)
        for line, vals in zip(lines, answer["lines"], strict=True):
            line["klodr_hsn_code"] = vals["hsn_code"]
        return lines

    def test_discount_split_per_tax_set_and_hsn(self):
        self.hsn_setup()
        line_args = [(self.shirt, 2), (self.dupatta, 1), (self.saree, 1), (self.book, 3)]
        data = self.order_data(line_args=line_args)
        answer = self.redeem(data, points=400)  # 100.00
        by_key = {(tuple(line["tax_ids"]), line["hsn_code"]): -line["price_unit"] for line in answer["lines"]}
        # 7%: shirt 666.66 and dupatta 100.00 (two HSNs); 10%: saree (no HSN); none: book 299.97
        self.assertEqual(set(by_key), {(tuple(self.tax7.ids), "6205"), (tuple(self.tax7.ids), "6214"),
                                       (tuple(self.tax10.ids), False), ((), "4901")})
        self.assertEqual(sum(Decimal(str(v)) for v in by_key.values()), Decimal("100.00"))
        order = self.sync(self.order_data(line_args=line_args, extra_lines=self.reward_lines_with_hsn(answer),
                                          uuid=data["uuid"]))
        rewards = order.lines.filtered("klodr_reward_line")
        self.assertEqual(sorted((line.l10n_in_hsn_code or "", line.klodr_hsn_code or "") for line in rewards),
                         [("", ""), ("4901", "4901"), ("6205", "6205"), ("6214", "6214")])
        # Per HSN, what is sold less what is discounted: the HSN summary's post-discount base.
        shirt_base = sum(order.lines.filtered(lambda line: line.l10n_in_hsn_code == "6205").mapped("price_subtotal"))
        self.assertAlmostEqual(shirt_base, 666.66 - by_key[(tuple(self.tax7.ids), "6205")], places=2)
        self.assertEqual(order.klodr_points_redeemed, 400)
        self.assertFalse(order.klodr_error)

    def test_hsn_not_sold_in_that_tax_set_is_dropped(self):
        """The browser names the HSN of a discount line: one not sold at that tax set is not kept."""
        self.hsn_setup()
        data = self.order_data()
        answer = self.redeem(data, points=400)
        lines = self.reward_lines_with_hsn(answer)
        for line in lines:
            line["klodr_hsn_code"] = "9999" if line["tax_ids"] == [Command.set(self.tax7.ids)] else "4901"
        order = self.sync(self.order_data(extra_lines=lines, uuid=data["uuid"]))
        kept = {tuple(line.tax_ids.ids): line.l10n_in_hsn_code for line in order.lines.filtered("klodr_reward_line")}
        self.assertEqual(kept, {tuple(self.tax7.ids): False, tuple(self.tax10.ids): False, (): "4901"})


@tagged("post_install", "-at_install")
class TestOtherCountryReceipt(ReceiptMixin, KlodrPosCommon):
    def test_no_words_outside_india(self):
        self.assertNotEqual(self.config.company_id.country_id.code, "IN")
        answer = self.sync_answer(self.order_data())
        self.assertFalse(answer["pos.order"][0]["klodr_amount_words"])
        self.assertTrue(answer["pos.order"][0]["klodr_synced"])

    def test_no_hsn_split_outside_india(self):
        data = self.order_data()
        answer = self.redeem(data, points=333)
        self.assertEqual(len(answer["lines"]), 3)  # one per tax set, as before
        self.assertEqual({line["hsn_code"] for line in answer["lines"]}, {False})
