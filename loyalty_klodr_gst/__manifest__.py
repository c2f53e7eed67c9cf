{
    "name": "Klodr Loyalty: GST and Accounting",
    "version": "19.0.1.0.0",
    "summary": "GST-correct loyalty redemptions on Indian invoices and points liability accounting",
    "category": "Accounting/Accounting",
    "author": "Klodr",
    "website": "https://klodr.example",
    "license": "LGPL-3",
    "depends": ["loyalty_klodr", "account", "l10n_in"],
    "installable": True,
    "auto_install": False,
}
