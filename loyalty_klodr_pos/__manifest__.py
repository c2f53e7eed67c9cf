{
    "name": "Klodr Loyalty: Point of Sale",
    "version": "19.0.1.2.1",
    "summary": "Loyalty panel for the cashier: find members by mobile, earn and redeem with an OTP",
    "category": "Sales/Point of Sale",
    "author": "Klodr",
    "website": "https://klodr.example",
    "license": "LGPL-3",
    "depends": ["loyalty_klodr", "loyalty_klodr_sms", "point_of_sale"],
    "data": [
        "data/product_data.xml",
        "views/pos_config_views.xml",
    ],
    "demo": [
        "demo/pos_demo.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "loyalty_klodr_pos/static/src/**/*",
        ],
        "web.assets_tests": [
            "loyalty_klodr_pos/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "auto_install": False,
}
