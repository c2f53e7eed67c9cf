{
    "name": "Klodr Loyalty: Point of Sale",
    "version": "19.0.1.0.0",
    "summary": "Loyalty panel for the cashier: find members by mobile, earn and redeem with an OTP",
    "category": "Sales/Point of Sale",
    "author": "Klodr",
    "website": "https://klodr.example",
    "license": "LGPL-3",
    "depends": ["loyalty_klodr", "loyalty_klodr_sms", "point_of_sale"],
    "installable": True,
    "auto_install": False,
}
