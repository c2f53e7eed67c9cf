"""The member portal: ``/my/loyalty`` and what a member does there.

A portal user sees the memberships whose contact is their own (``klodr.member.partner_id``);
record rules give portal users exactly those, and every route checks it again before reading
anything else on the member's behalf. Nothing here decides points: check-ins go through
``klodr.member._earn_event`` (its caps apply), receipts become ``klodr.claim`` records that
staff review.
"""
import base64
import contextlib
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import psycopg2
from dateutil.relativedelta import relativedelta
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import content_disposition, request
from odoo.tools.mimetypes import guess_mimetype

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..exceptions import LoyaltyError
from ..models.klodr_claim import CLAIM_RULE_KINDS
from ..tools import checkin
from ..tools.rewards import BELOW_MINIMUM_REDEMPTION, INSUFFICIENT_POINTS
from .privacy import json_download

HISTORY_LINES = 50
RECEIPT_MAX_BYTES = 10 * 1024 * 1024
RECEIPT_MIMETYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
STATEMENT_REPORT = "loyalty_klodr.report_member_statement"
POINTS_REFUSALS = (INSUFFICIENT_POINTS, BELOW_MINIMUM_REDEMPTION)


class KlodrPortal(CustomerPortal):
    # ------------------------------------------------------------------
    # Whose membership
    # ------------------------------------------------------------------
    def _klodr_members(self):
        """The current user's own memberships (not erased)."""
        partner = request.env.user.partner_id
        return request.env["klodr.member"].search(
            [("partner_id", "=", partner.id), ("state", "!=", "erased")], order="id")

    def _klodr_member(self, member_id=None):
        """The membership asked for, if it is the user's own (then read as superuser: its program,
        tiers and rewards are not for portal users to browse); else 404 (never says whose it is)."""
        members = self._klodr_members()
        if member_id:
            try:
                member_id = int(member_id)
            except (TypeError, ValueError):
                raise NotFound() from None
            members = members.filtered(lambda m: m.id == member_id)
        if not members:
            raise NotFound()
        return members[0].sudo()

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "klodr_member_count" in counters:
            values["klodr_member_count"] = len(self._klodr_members())
        return values

    # ------------------------------------------------------------------
    # The loyalty page
    # ------------------------------------------------------------------
    def _klodr_page_values(self, member, **extra):
        """What /my/loyalty shows of ``member`` (the user's own, checked by the caller)."""
        program = member.program_id
        today = member._local_today(program)
        next_tier, needed = member._next_tier()
        window = member._window_points().get(member.id, 0)
        statement = request.env["report.loyalty_klodr.report_member_statement"].sudo()._statement_values(
            member, today - relativedelta(years=1) + relativedelta(days=1), today)
        rewards = request.env["klodr.reward"].sudo().search([("program_id", "=", program.id), ("active", "=", True)])
        eligibility = rewards._eligibility_by_reward(member)
        catalogue = []
        for reward in rewards:
            eligible, refusal = eligibility[reward.id]
            # Short of points only: say how many more; any other refusal (tier, stock...): say which.
            short = refusal in POINTS_REFUSALS and refusal.details.get("reason") != "negative_balance"
            catalogue.append({
                "reward": reward,
                "eligible": eligible,
                "missing": (refusal.details.get("minimum") or refusal.details.get("needed", 0))
                - refusal.details.get("spendable", 0) if short else 0,
                "reason": reward._refusal_message(refusal) if refusal and not short else "",
            })
        join_url = f"{member.get_base_url()}/loyalty/join/{quote(member.referral_code or '')}"
        share_text = request.env._("Join %(program)s with my referral code %(code)s: %(url)s",
                                   program=program.name, code=member.referral_code, url=join_url)
        return {
            "page_name": "loyalty",
            "member": member,
            "members": self._klodr_members().sudo(),
            "program": program,
            "today": today,
            "next_tier": next_tier,
            "points_needed": needed,
            "tier_progress": int(100 * window / (window + needed)) if needed else 100,
            "expiring": member._expiring(90),
            "history": list(reversed(statement["lines"][-HISTORY_LINES:])),
            "history_total": len(statement["lines"]),
            "statement": statement,
            "catalogue": catalogue,
            "join_url": join_url,
            "share_whatsapp": f"https://wa.me/?text={quote(share_text)}",
            "share_sms": f"sms:?body={quote(share_text)}",
            "claims": request.env["klodr.claim"].sudo().search([("member_id", "=", member.id)], limit=10),
            "stores": request.env["klodr.store"].sudo().search([("company_id", "=", member.company_id.id)]),
            "claim_values": {},
            **extra,
        }

    @http.route("/my/loyalty", type="http", auth="user", website=True)
    def portal_my_loyalty(self, member=None, claim=None, **kwargs):
        member = self._klodr_member(member)
        values = self._prepare_portal_layout_values()
        values.update(self._klodr_page_values(member, claim_sent=claim == "sent"))
        return request.render("loyalty_klodr.portal_my_loyalty", values)

    @http.route("/my/loyalty/statement", type="http", auth="user", website=True)
    def portal_my_loyalty_statement(self, member=None, date_from=None, date_to=None, **kwargs):
        member = self._klodr_member(member)
        data = {}
        for key, value in (("date_from", date_from), ("date_to", date_to)):
            with contextlib.suppress(TypeError, ValueError):
                data[key] = date.fromisoformat(value).isoformat()
        pdf, _kind = request.env["ir.actions.report"].sudo()._render_qweb_pdf(STATEMENT_REPORT, member.ids, data=data)
        return request.make_response(pdf, headers=[
            ("Content-Type", "application/pdf"), ("Content-Length", len(pdf)),
            ("Content-Disposition", content_disposition(f"points-statement-{member.code}.pdf")),
        ])

    @http.route("/my/loyalty/export", type="http", auth="user", website=True)
    def portal_my_loyalty_export(self, member=None, **kwargs):
        return json_download(self._klodr_member(member))

    # ------------------------------------------------------------------
    # Check-in by the store's QR code
    # ------------------------------------------------------------------
    def _klodr_checkin_context(self, store, day, sig):
        """``(member, store record, error message)`` of a scanned check-in link."""
        env = request.env
        parsed = checkin.parse(store, day, sig)
        store_record = env["klodr.store"].sudo().browse(parsed[0]).exists() if parsed else env["klodr.store"]
        if not parsed or not store_record or not store_record.active:
            return None, store_record, env._("This check-in code is not valid.")
        store_id, day, sig = parsed
        member = self._klodr_members().sudo().filtered(lambda m: m.company_id == store_record.company_id)[:1]
        if not member:
            return None, store_record, env._("You are not a member of the loyalty program of %s.", store_record.name)
        problem = checkin.check(store_record._checkin_secret(), store_id, day, sig,
                                today=member._local_today(member.program_id))
        if problem == checkin.WRONG_DAY:
            return member, store_record, env._("This check-in code was for another day: scan today's code.")
        if problem:
            return member, store_record, env._("This check-in code is not valid.")
        return member, store_record, None

    @http.route("/my/loyalty/checkin", type="http", auth="user", website=True, methods=["GET", "POST"])
    def portal_my_loyalty_checkin(self, store=None, day=None, sig=None, **kwargs):
        member, store_record, error = self._klodr_checkin_context(store, day, sig)
        values = self._prepare_portal_layout_values()
        values.update({"page_name": "loyalty", "member": member, "store": store_record,
                       "error": error, "params": {"store": store, "day": day, "sig": sig}, "done": False})
        if not error and request.httprequest.method == "POST":
            ref = f"{store_record.id}:{day}"
            already = member._event_entries("checkin", ref)
            try:
                with request.env.cr.savepoint():
                    entries = member._earn_event("checkin", ref=ref, store=store_record)
            except LoyaltyError as exc:
                values["error"] = (request.env._("You have already checked in today.")
                                   if exc.code == "cap_reached" else str(exc))
            else:
                values.update(done=True, points=sum(entries.mapped("points")), already=bool(already))
        return request.render("loyalty_klodr.portal_loyalty_checkin", values)

    # ------------------------------------------------------------------
    # A receipt as evidence of a purchase
    # ------------------------------------------------------------------
    def _klodr_claim_rule(self, program):
        """The rule a receipt claims: the program's first rule of points per amount, else per order
        or by band."""
        rules = program.sudo().rule_ids.filtered(lambda r: r.active and r.kind in CLAIM_RULE_KINDS)
        return rules.sorted(lambda r: (r.kind != "amount", r.sequence, r.id))[:1]

    def _klodr_claim_vals(self, member, post):
        """Checked values of a claim from the posted form; raise UserError with what is wrong."""
        env = request.env
        rule = self._klodr_claim_rule(member.program_id)
        if not rule:
            raise UserError(env._("This program does not take receipts."))
        receipt_ref = (post.get("receipt_ref") or "").strip()
        if not receipt_ref or len(receipt_ref) > 64:
            raise UserError(env._("Enter the receipt number (at most 64 characters)."))
        try:
            amount = Decimal(str(post.get("amount") or "").replace(",", "").strip())
            receipt_date = date.fromisoformat(post.get("receipt_date") or "")
        except (InvalidOperation, ValueError):
            raise UserError(env._("Enter the amount and the date of the receipt.")) from None
        if not amount.is_finite() or amount <= 0 or amount > 10**9:
            raise UserError(env._("The amount must be a positive number."))
        upload = post.get("receipt_file")
        content = upload.read(RECEIPT_MAX_BYTES + 1) if upload and hasattr(upload, "read") else b""
        if not content:
            raise UserError(env._("Attach a photo or a PDF of the receipt."))
        if len(content) > RECEIPT_MAX_BYTES:
            raise UserError(env._("The receipt file is larger than 10 MB."))
        if guess_mimetype(content) not in RECEIPT_MIMETYPES:
            raise UserError(env._("The receipt must be a photo (JPEG, PNG, GIF, WebP) or a PDF."))
        store = env["klodr.store"].sudo().browse(int(post["store_id"])).exists() \
            if str(post.get("store_id") or "").isdigit() else env["klodr.store"]
        return {
            "member_id": member.id, "rule_id": rule.id, "amount": float(amount), "receipt_ref": receipt_ref,
            "receipt_date": receipt_date, "store_id": store.id if store.company_id == member.company_id else False,
            "receipt_file": base64.b64encode(content), "receipt_filename": (upload.filename or "receipt")[:128],
            "note": (post.get("note") or "").strip()[:2000] or False, "channel": "portal",
        }

    @http.route("/my/loyalty/claim", type="http", auth="user", website=True, methods=["POST"])
    def portal_my_loyalty_claim(self, member=None, **post):
        member = self._klodr_member(member)
        try:
            vals = self._klodr_claim_vals(member, post)
            with request.env.cr.savepoint():
                request.env["klodr.claim"].sudo().create(vals)
        except psycopg2.IntegrityError:
            error = request.env._("You have already sent this receipt.")
        except (UserError, ValidationError, LoyaltyError) as exc:
            error = str(exc.args[0] if exc.args else exc)
        else:
            return request.redirect(f"/my/loyalty?member={member.id}&claim=sent#claims")
        values = self._prepare_portal_layout_values()
        values.update(self._klodr_page_values(member, claim_error=error, claim_values={
            k: post.get(k) for k in ("receipt_ref", "amount", "receipt_date", "store_id", "note")}))
        return request.render("loyalty_klodr.portal_my_loyalty", values)

    # ------------------------------------------------------------------
    # Public: the referral link a member shares
    # ------------------------------------------------------------------
    @http.route("/loyalty/join/<string:code>", type="http", auth="public", website=True)
    def loyalty_join(self, code, **kwargs):
        code = (code or "").strip().upper()[:16]
        referrer = request.env["klodr.member"].sudo().search(
            [("referral_code", "=", code), ("state", "=", "active")], limit=1) if code.isalnum() else None
        # Only the program and the code: nothing about the member who shares it.
        return request.render("loyalty_klodr.loyalty_join", {
            "program": referrer.program_id if referrer else None, "code": code if referrer else None})


class KlodrStoreCheckinCode(http.Controller):
    @http.route("/klodr/store/<int:store_id>/checkin-qr", type="http", auth="user")
    def store_checkin_qr(self, store_id):
        if not request.env.user.has_group("loyalty_klodr.group_loyalty_user"):
            raise NotFound()
        store = request.env["klodr.store"].browse(store_id).exists()
        if not store:
            raise NotFound()
        store.check_access("read")
        day = store._checkin_today()
        url = store._checkin_url(day)
        return request.render("loyalty_klodr.store_checkin_qr", {
            "store": store, "day": day, "url": url,
            "qr_src": f"/report/barcode/?barcode_type=QR&width=360&height=360&value={quote(url, safe='')}"})
