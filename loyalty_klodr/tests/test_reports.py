import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.loyalty_klodr.tools.rules import Line

from .common import KlodrRulesCommon

NOW = datetime(2026, 6, 15, 10, 0)


def month(value):
    return date(value.year, value.month, 1)


def local_day(moment):
    """The day of a UTC ``moment`` in the test program's timezone (Asia/Kolkata: +05:30)."""
    return (moment + timedelta(hours=5, minutes=30)).date()


@tagged("post_install", "-at_install")
class TestReports(KlodrRulesCommon):
    """The analyses add up to the ledger, purchases and redemptions they are built on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.otp_required = False
        rng = random.Random(8)
        Category = cls.env["product.category"]
        cls.books = Category.create({"name": "Klodr Books"})
        cls.novels = Category.create({"name": "Klodr Novels", "parent_id": cls.books.id})
        cls.toys = Category.create({"name": "Klodr Toys"})
        Product = cls.env["product.product"]
        cls.products = [Product.create({"name": name, "categ_id": categ.id, "list_price": 100})
                        for name, categ in (("Atlas", cls.books), ("Thriller", cls.novels), ("Kite", cls.toys))]
        Transaction = cls.env["klodr.transaction"]
        cls.members = cls.env["klodr.member"]
        with freeze_time(NOW):
            for number in range(24):
                member = cls.env["klodr.member"].create({
                    "name": f"Gen {number}", "program_id": cls.program.id, "mobile": f"+9198460{number:05d}"})
                cls.members |= member
                for purchase in range(rng.randint(0, 6)):
                    when = NOW - timedelta(days=rng.randint(1, 450), hours=rng.randint(0, 23))
                    lines = []
                    for _line in range(rng.randint(1, 3)):
                        product = rng.choice(cls.products)
                        quantity = rng.randint(1, 3)
                        lines.append(Transaction._pure_line(product, quantity, quantity * rng.choice((150, 900, 4000))))
                    if rng.random() < 0.3:  # an integration's line, with its own category name
                        lines.append(Line(amount=pure_amount(rng.choice((200, 700))), product="SKU-9",
                                          categories=frozenset({"STATIONERY"})))
                    amount = sum(line.amount for line in lines)
                    store = rng.choice((cls.store_a, cls.store_b, None))
                    txn = member._earn_order(amount, order_ref=f"GEN-{number}-{purchase}", lines=lines, when=when,
                                             store=store)
                    if rng.random() < 0.15:
                        txn._refund(f"RF-{number}-{purchase}", amount / 2, when=when + timedelta(days=2))
                if member.spendable_points >= 150 and rng.random() < 0.7:
                    redemption = cls.env["klodr.redemption"]._start(
                        member, points=100, order_ref=f"RDM-{number}", order_amount=1000,
                        store=rng.choice((cls.store_a, cls.store_b)))
                    if rng.random() < 0.3:
                        redemption._cancel()
                if rng.random() < 0.2:
                    cls.ledger._post(member, "adjust", rng.choice((-5, 25)), source_ref="ADJ")
            cls.env["klodr.ledger.entry"]._expire_due_lots(today=NOW.date(), programs=cls.program)
        cls.env.flush_all()
        cls.env["klodr.report.activity"]._refresh_reports()
        cls.entries = cls.ledger.search([("program_id", "=", cls.program.id)])

    def read_group(self, model, groupby, aggregates, domain=()):
        return self.env[model].with_context(tz="UTC")._read_group(
            [("program_id", "=", self.program.id), *domain], groupby, aggregates)

    def test_generated_data_is_varied(self):
        types = set(self.entries.mapped("entry_type"))
        self.assertTrue({"earn", "bonus", "redeem", "expire", "refund", "reversal"} <= types, types)
        self.assertLedgerWhole()

    def test_activity_totals_equal_the_ledger(self):
        [(issued, redeemed, expired, corrected, net, sales, orders, discount, count)] = self.read_group(
            "klodr.report.activity", [], ["points_issued:sum", "points_redeemed:sum", "points_expired:sum",
                                          "points_corrected:sum", "points_net:sum", "sales_amount:sum",
                                          "order_count:sum", "discount_amount:sum", "row_count:sum"])
        by_type = defaultdict(int)
        for entry in self.entries:
            by_type[entry.entry_type] += entry.points
        self.assertEqual(issued, by_type["earn"] + by_type["bonus"])
        self.assertEqual(redeemed, -by_type["redeem"])
        self.assertEqual(expired, -by_type["expire"])
        self.assertEqual(corrected, by_type["refund"] + by_type["reversal"] + by_type["adjust"])
        self.assertEqual(net, sum(self.entries.mapped("points")))
        self.assertEqual(net, sum(self.members.mapped("balance")))
        transactions = self.env["klodr.transaction"].search([("program_id", "=", self.program.id)])
        self.assertAlmostEqual(sales, sum(t.amount - t.refunded_amount for t in transactions), places=2)
        self.assertEqual(orders, len(transactions))
        redemptions = self.env["klodr.redemption"].search(
            [("program_id", "=", self.program.id), ("state", "=", "confirmed")])
        self.assertTrue(redemptions)
        self.assertAlmostEqual(discount, sum(redemptions.mapped("discount_amount")), places=2)
        self.assertEqual(count, len(self.entries) + len(transactions) + len(redemptions))

    def test_activity_by_store_and_month(self):
        expected = defaultdict(lambda: [0, 0, 0.0])
        for entry in self.entries:
            key = (entry.store_id.id or False, month(local_day(entry.date)))
            expected[key][0] += 0  # every entry makes a row of the report, expiries too
            if entry.entry_type in ("earn", "bonus"):
                expected[key][0] += entry.points
            elif entry.entry_type == "redeem":
                expected[key][1] -= entry.points
        for txn in self.env["klodr.transaction"].search([("program_id", "=", self.program.id)]):
            expected[(txn.store_id.id or False, month(local_day(txn.date)))][2] += txn.amount - txn.refunded_amount
        rows = self.read_group("klodr.report.activity", ["store_id", "date:month"],
                               ["points_issued:sum", "points_redeemed:sum", "sales_amount:sum",
                                "redemption_rate:avg"])
        got = {}
        for store, day, issued, redeemed, sales, rate in rows:
            got[(store.id or False, day)] = [issued, redeemed, round(sales, 2)]
            self.assertAlmostEqual(rate, 100.0 * redeemed / issued if issued else 0.0, places=4)
        self.maxDiff = None
        self.assertEqual(got, {key: [i, r, round(s, 2)] for key, (i, r, s) in expected.items()})
        # A store filter and a tier filter narrow the same numbers.
        [(store_issued,)] = self.read_group("klodr.report.activity", [], ["points_issued:sum"],
                                            [("store_id", "=", self.store_a.id)])
        self.assertEqual(store_issued, sum(v[0] for (s, _m), v in expected.items() if s == self.store_a.id))
        tier_rows = self.read_group("klodr.report.activity", ["tier_id"], ["points_net:sum"])
        for tier, net in tier_rows:
            self.assertEqual(net, sum(self.members.filtered(lambda m, t=tier: m.tier_id == t).mapped("balance")))

    def test_analyses_wait_for_their_refresh(self):
        [(before,)] = self.read_group("klodr.report.activity", [], ["points_issued:sum"])
        [(expiring_before,)] = self.read_group("klodr.report.expiry", [], ["points:sum"])
        self.ledger._post(self.member, "earn", 77, source_ref="LATE")
        self.assertEqual(self.read_group("klodr.report.activity", [], ["points_issued:sum"]), [(before,)])
        self.env["klodr.report.activity"]._refresh_reports()
        self.assertEqual(self.read_group("klodr.report.activity", [], ["points_issued:sum"]), [(before + 77,)])
        self.assertEqual(self.read_group("klodr.report.expiry", [], ["points:sum"]), [(expiring_before + 77,)])
        self.assertTrue(self.program.dashboard_refreshed_at)
        with self.assertRaises(AccessError):
            self.program.with_user(self.user_auditor).action_dashboard_refresh()

    def test_expiring_points_equal_open_lots(self):
        lots = self.env["klodr.ledger.lot"].search([("program_id", "=", self.program.id), ("remaining", ">", 0),
                                                    ("expiry_date", "!=", False)])
        expected = Counter()
        for lot in lots:
            expected[month(lot.expiry_date)] += lot.remaining
        rows = self.read_group("klodr.report.expiry", ["expiry_date:month"], ["points:sum", "value:sum"])
        self.assertEqual({day: points for day, points, _value in rows}, dict(expected))
        for _day, points, value in rows:
            self.assertAlmostEqual(value, points * self.program.point_value, places=2)
        # Nothing has expired yet that the expiry run has not settled.
        self.assertFalse(self.read_group("klodr.report.expiry", [], ["__count"],
                                         [("expiry_date", "<", NOW.date())])[0][0])
        self.assertEqual(sum(expected.values()), sum(self.members.mapped("balance")) + self.debts())

    def debts(self):
        """Points owed by members whose refunds took more than their lots held."""
        return -sum(b for b in self.members.mapped("balance") if b < 0)

    def test_tier_movements_follow_the_history(self):
        history = self.env["klodr.tier.history"].search([("member_id.program_id", "=", self.program.id)])
        rows = dict(self.read_group("klodr.report.tier.movement", ["direction"], ["__count"]))
        self.assertEqual(sum(rows.values()), len(history))
        self.assertEqual(rows.get("entry", 0), len(history.filtered(lambda h: not h.from_tier_id)))
        ups = history.filtered(
            lambda h: h.from_tier_id and h.to_tier_id.threshold_points > h.from_tier_id.threshold_points)
        self.assertTrue(ups)
        self.assertEqual(rows.get("up", 0), len(ups))

    def test_buying_pattern_by_category(self):
        lines = self.env["klodr.transaction.line"].search([("transaction_id.program_id", "=", self.program.id)])
        names = {self.books.id: self.books.complete_name, self.novels.id: self.novels.complete_name,
                 self.toys.id: self.toys.complete_name}
        expected = defaultdict(lambda: [0.0, set(), set()])
        for line in lines:
            key = names[line.category_id.id] if line.category_id else line.category_ref
            expected[key][0] += line.amount
            expected[key][1].add(line.transaction_id.id)
            expected[key][2].add(line.transaction_id.member_id.id)
        self.assertEqual(set(expected), {"Klodr Books", "Klodr Books / Klodr Novels", "Klodr Toys", "STATIONERY"})
        rows = self.read_group("klodr.report.category", ["category"],
                               ["amount:sum", "transaction_id:count_distinct", "buyer_id:count_distinct",
                                "average_basket:avg", "recency_days:min"])
        for category, amount, purchases, buyers, basket, recency in rows:
            total, txns, members = expected[category]
            self.assertAlmostEqual(amount, total, places=2)
            self.assertEqual((purchases, buyers), (len(txns), len(members)))
            self.assertAlmostEqual(basket, total / len(txns), places=2)
            last = max(line.transaction_id.date for line in lines
                       if (names.get(line.category_id.id) or line.category_ref) == category)
            self.assertEqual(recency, (date.today() - last.date()).days)
        # Lines add up to their purchase.
        for txn in lines.transaction_id:
            self.assertAlmostEqual(sum(txn.line_ids.mapped("amount")), txn.amount, places=2)

    def test_new_active_lapsed_members(self):
        since = datetime.now() - timedelta(days=90)
        last = {}
        for entry in self.entries.filtered(lambda e: e.entry_type in ("earn", "redeem")):
            last[entry.member_id.id] = max(last.get(entry.member_id.id, entry.date), entry.date)
        expected = Counter()
        for member in self.members | self.member | self.member_2:
            if member.create_date >= since:
                expected["new"] += 1
            elif last.get(member.id) and last[member.id] >= since:
                expected["active"] += 1
            elif last.get(member.id):
                expected["lapsed"] += 1
            else:
                expected["dormant"] += 1
        self.assertEqual(dict(self.read_group("klodr.report.member", ["status"], ["__count"])), dict(expected))
        [(active,)] = self.read_group("klodr.report.member", [], ["active_count:sum"])
        self.assertEqual(active, sum(1 for day in last.values() if day >= since))

    def test_dashboard_figures(self):
        program = self.program
        since = datetime.now() - relativedelta(days=90)
        active = {e.member_id.id for e in self.entries if e.entry_type in ("earn", "redeem") and e.date >= since}
        self.assertEqual(program.dashboard_member_count, len(self.members) + 2)
        self.assertEqual(program.dashboard_active_count, len(active))
        self.assertEqual(program.points_outstanding, sum(self.members.mapped("balance")))
        self.assertAlmostEqual(program.dashboard_points_value, program.points_outstanding * program.point_value)
        since = (datetime.now() - relativedelta(months=12)).date()
        year = [e for e in self.entries if local_day(e.date) >= since]
        issued = sum(e.points for e in year if e.entry_type in ("earn", "bonus"))
        redeemed = -sum(e.points for e in year if e.entry_type == "redeem")
        self.assertEqual((program.dashboard_points_issued, program.dashboard_points_redeemed), (issued, redeemed))
        self.assertAlmostEqual(program.dashboard_redemption_rate, 100.0 * redeemed / issued, delta=0.05)
        for tier in program.tier_ids:
            count = len((self.members | self.member | self.member_2).filtered(lambda m, t=tier: m.tier_id == t))
            if count:
                self.assertIn(f"{tier.name} {count}", program.dashboard_tier_summary)

    def test_dashboard_top_rewards(self):
        cheap = self.env["klodr.reward"].create({"name": "Tea", "program_id": self.program.id, "points_cost": 10,
                                                 "reward_type": "discount_fixed", "value": 5})
        dear = self.env["klodr.reward"].create({"name": "Mug", "program_id": self.program.id, "points_cost": 20,
                                                "reward_type": "discount_fixed", "value": 10})
        rich = self.members.filtered(lambda m: m.spendable_points >= 100)[:3]
        for member in rich:
            self.env["klodr.redemption"]._start(member, reward=cheap)
        self.env["klodr.redemption"]._start(rich[0], reward=dear)
        self.program.invalidate_recordset()
        self.assertEqual(self.program.dashboard_top_reward_ids[:2].ids, [cheap.id, dear.id])

    def test_access(self):
        for model in ("klodr.report.activity", "klodr.report.expiry", "klodr.report.member",
                      "klodr.report.category", "klodr.report.tier.movement"):
            with self.subTest(model=model):
                self.assertTrue(self.env[model].with_user(self.user_auditor).search_count([]))
                self.assertFalse(self.env[model].with_user(self.other_manager).search_count([]))
                with self.assertRaises(AccessError):
                    self.env[model].with_user(self.user_cashier).search_count([])


def pure_amount(value):
    from decimal import Decimal  # noqa: PLC0415

    return Decimal(value)
