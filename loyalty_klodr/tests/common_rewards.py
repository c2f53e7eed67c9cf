from .common import KlodrCommon


class KlodrRewardsCommon(KlodrCommon):
    """KlodrCommon plus a Bronze/Silver/Gold ladder, a product and a few rewards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tier = cls.env["klodr.tier"]
        cls.bronze, cls.silver, cls.gold = (Tier.create({
            "name": name, "code": name.lower(), "program_id": cls.program.id, "threshold_points": threshold,
        }) for name, threshold in (("Bronze", 0), ("Silver", 1000), ("Gold", 5000)))
        cls.mug = cls.env["product.product"].create({"name": "Coffee Mug", "list_price": 250.0})
        cls.discount_50 = cls.make_reward("Discount 50", points_cost=200, value=50)
        cls.coffee_mug = cls.make_reward("Coffee Mug", reward_type="product", points_cost=1000,
                                         product_id=cls.mug.id, stock=10)
        cls.lounge = cls.make_reward("Gold Lounge Pass", reward_type="cashback", points_cost=2000, value=500,
                                     min_tier_id=cls.gold.id)

    @classmethod
    def make_reward(cls, name, **values):
        return cls.env["klodr.reward"].create({
            "name": name, "program_id": cls.program.id, "reward_type": "discount_fixed", **values})

    @classmethod
    def make_voucher(cls, name="Book Voucher", codes=(), **values):
        reward = cls.make_reward(name, reward_type="voucher", points_cost=300, value=100, **values)
        if codes:
            cls.env["klodr.reward.code"].create([{"reward_id": reward.id, "code": code} for code in codes])
        return reward

    def set_tier(self, member, tier):
        member.tier_id = tier

    def issue(self, reward, member=None, ref=None, env=None):
        env = env or self.env
        return env["klodr.reward.issue"]._issue(
            reward.with_env(env), (member or self.member).with_env(env), ref or "TEST")
