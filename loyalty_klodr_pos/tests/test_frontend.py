"""Tours in a real Chromium (Debian's chromium + websocket-client): the cashier's loyalty panel."""
from contextlib import ExitStack
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.loyalty_klodr.tests.common import otp_outbox
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

OTP = "424242"


@tagged("post_install", "-at_install")
class TestKlodrPosUi(TestPointOfSaleHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.user.group_ids |= env.ref("loyalty_klodr.group_loyalty_manager")
        company = cls.main_pos_config.company_id
        cls.program = env["klodr.program"].create({
            "name": "Counter Rewards", "company_id": company.id, "point_value": 0.25, "min_redeem_balance": 100,
            "otp_required": True, "country_id": env.ref("base.in").id, "tz": "Asia/Kolkata"})
        env["klodr.earn.rule"].create({"name": "1 point per 10", "program_id": cls.program.id, "kind": "amount",
                                       "points": 1, "spend_unit": 10})
        env["klodr.tier"].create([
            {"name": "Bronze", "code": "bronze", "program_id": cls.program.id, "threshold_points": 0,
             "color": "#cd7f32"},
            {"name": "Silver", "code": "silver", "program_id": cls.program.id, "threshold_points": 1000,
             "color": "#8a8d91"},
            {"name": "Gold", "code": "gold", "program_id": cls.program.id, "threshold_points": 5000,
             "color": "#d4af37"}])
        gold = cls.program.tier_ids.filtered(lambda t: t.code == "gold")
        env["klodr.reward"].create([
            {"name": "Discount 50", "program_id": cls.program.id, "reward_type": "discount_fixed",
             "points_cost": 200, "value": 50},
            {"name": "Gold Lounge", "program_id": cls.program.id, "reward_type": "discount_fixed",
             "points_cost": 300, "value": 100, "min_tier_id": gold.id}])
        cls.store = env["klodr.store"].create({"name": "Counter Showroom", "code": "CTR", "company_id": company.id})
        cls.main_pos_config.write({"klodr_program_id": cls.program.id, "klodr_store_id": cls.store.id})
        for name, price in (("Klodr Saree", 1500), ("Klodr Shirt", 500)):
            env["product.product"].create({"name": name, "available_in_pos": True, "list_price": price,
                                           "taxes_id": False})
        cls.member = env["klodr.member"].create({
            "name": "Priya Counter", "program_id": cls.program.id, "mobile": "+91 98450 11111"})
        cls.member._earn_order(12000, order_ref="seed")  # 1,200 points: Silver
        cls.member.sudo().write({"code": "KLPRIYA"})
        cls.member.invalidate_recordset()

    def start_klodr_tour(self, name):
        with ExitStack() as stack:
            sent = stack.enter_context(otp_outbox(self.registry))
            stack.enter_context(patch.object(self.registry["klodr.redemption"], "_generate_otp", lambda self: OTP))
            self.start_pos_tour(name, login="pos_user")
        return sent

    def test_find_member_earn_preview_redeem_with_otp_receipt(self):
        self.assertEqual(self.member.tier_id.name, "Silver")
        sent = self.start_klodr_tour("KlodrPosFindEarnRedeemTour")
        self.assertEqual([code for _id, code in sent], [OTP])
        order = self.env["pos.order"].search([("klodr_member_id", "=", self.member.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual((order.klodr_points_earned, order.klodr_points_redeemed), (195, 200))
        redemption = self.env["klodr.redemption"].search([("member_id", "=", self.member.id)])
        self.assertEqual((redemption.state, redemption.pos_order_id), ("confirmed", order))
        self.assertEqual(self.member.balance, 1195)
        self.assertEqual(self.member.held_points, 0)

    def test_enroll_at_the_counter(self):
        self.member.referral_code = "REFPRIYA"
        self.start_klodr_tour("KlodrPosEnrollTour")
        new = self.env["klodr.member"].search([("mobile", "=", "+919845077777")])
        self.assertEqual((new.name, str(new.birthday), new.referred_by_id, new.store_id),
                         ("Neha Newcomer", "1992-03-14", self.member, self.store))
        self.assertEqual(new.balance, 150)

    def test_refund_from_the_ticket_screen(self):
        self.start_klodr_tour("KlodrPosRefundTour")
        refund = self.env["pos.order"].search([("klodr_points_reversed", "!=", 0)])
        self.assertEqual(refund.klodr_points_reversed, 150)
        self.assertEqual(self.member.balance, 1250)

    def test_offline_redemption_needs_the_server(self):
        self.start_klodr_tour("KlodrPosOfflineTour")
