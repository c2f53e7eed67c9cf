"""The floor of a write endpoint: what any request that durably writes one row costs in Odoo.

``POST /klodr_bench/floor`` is routed like the loyalty API (``type='http'``, ``auth='none'``, no
session saved, read/write cursor), reads a JSON body, inserts one row with one statement and
answers 201 in JSON; Odoo's dispatch commits it (a WAL flush, as every earn's commit). No
authentication, no look-up, no ledger: an earn cannot cost less than this.
"""
import json

from odoo import http
from odoo.http import request


class BenchFloor(http.Controller):
    @http.route("/klodr_bench/floor", type="http", auth="none", methods=["POST"], csrf=False,
                save_session=False, readonly=False)
    def floor(self):
        body = json.loads(request.httprequest.get_data() or b"{}")
        request.env.cr.execute("INSERT INTO klodr_bench_floor (ref) VALUES (%s) RETURNING id", [str(body.get("ref"))])
        return request.make_json_response({"id": request.env.cr.fetchone()[0]}, status=201)
