{
    "name": "Klodr Loyalty: SMS",
    "version": "19.0.1.0.0",
    "summary": "Send loyalty OTPs and member notifications through Odoo's SMS queue",
    "category": "Sales/Loyalty",
    "author": "Klodr",
    "website": "https://klodr.example",
    "license": "LGPL-3",
    "depends": ["loyalty_klodr", "sms"],
    "installable": True,
    "auto_install": False,
}
