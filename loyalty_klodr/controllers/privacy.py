"""``GET /klodr/member/<id>/export``: a member's personal data as a JSON download (DPDP Act).

Whoever may read the member gets it (loyalty staff of the member's company; the member
themselves from the portal has its own route); each export is noted in the member's chatter.
"""
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import content_disposition, request


def json_download(member):
    """The HTTP answer carrying ``member``'s export, and a note of it in the chatter."""
    body = member._export_personal_data_json()
    member.sudo().message_post(
        body=request.env._("Personal data exported by %s.", request.env.user.name),
        author_id=request.env.user.partner_id.id)
    return request.make_response(body, headers=[
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Disposition", content_disposition(f"loyalty-member-{member.code}.json")),
        ("Cache-Control", "no-store"),
    ])


class KlodrPrivacy(http.Controller):
    @http.route("/klodr/member/<int:member_id>/export", type="http", auth="user", methods=["GET"])
    def export_member(self, member_id):
        member = request.env["klodr.member"].browse(member_id).exists()
        if not member or not request.env.user._is_internal():
            raise NotFound()
        member.check_access("read")
        return json_download(member)
