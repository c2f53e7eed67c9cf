from odoo import fields, models


class KlodrBenchFloor(models.Model):
    """One row per floor request of ``bench/bench_api.py``: the scratch table it writes."""

    _name = "klodr.bench.floor"
    _description = "Benchmark floor row"

    ref = fields.Char(required=True, index=True)
