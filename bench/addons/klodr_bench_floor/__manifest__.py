{
    "name": "Klodr Bench Floor",
    "version": "19.0.1.0.0",
    "summary": "Benchmark only: the cheapest request that writes durably through Odoo's dispatch",
    "category": "Hidden",
    "author": "Klodr",
    "website": "https://klodr.example",
    "license": "LGPL-3",
    "depends": ["base"],
    "data": ["security/ir.model.access.csv"],
    "installable": True,
}
