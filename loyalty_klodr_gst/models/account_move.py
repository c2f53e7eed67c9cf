import logging
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.loyalty_klodr.exceptions import LoyaltyError
from odoo.addons.loyalty_klodr.tools.amount_words import indian_amount_in_words
from odoo.addons.loyalty_klodr.tools.apportion import apportion_by_key, largest_remainder
from odoo.addons.loyalty_klodr.tools.liability import KINDS

_logger = logging.getLogger(__name__)


def _money(value):
    return Decimal(str(value or 0))


class AccountMove(models.Model):
    _inherit = "account.move"

    klodr_member_id = fields.Many2one("klodr.member", string="Loyalty Member", compute="_compute_klodr_member_id")
    klodr_transaction_id = fields.Many2one("klodr.transaction", string="Loyalty Purchase", readonly=True,
                                           copy=False, index="btree_not_null")
    klodr_redemption_ids = fields.One2many("klodr.redemption", "invoice_id", string="Loyalty Redemptions",
                                           readonly=True)
    klodr_points_earned = fields.Integer(string="Points Earned", compute="_compute_klodr_points")
    klodr_points_redeemed = fields.Integer(string="Points Redeemed", compute="_compute_klodr_points")
    klodr_points_balance = fields.Integer(string="Points Balance", compute="_compute_klodr_points")
    klodr_can_redeem = fields.Boolean(compute="_compute_klodr_member_id")
    # Liability journal entries posted from the ledger
    klodr_liability_program_id = fields.Many2one("klodr.program", string="Loyalty Program (Liability)",
                                                 readonly=True, copy=False, index="btree_not_null")
    klodr_liability_kind = fields.Selection([(k, k.capitalize()) for k in KINDS], string="Loyalty Posting",
                                            readonly=True, copy=False)

    # ------------------------------------------------------------------
    # Member and figures
    # ------------------------------------------------------------------
    @api.depends("partner_id", "company_id", "move_type", "state")
    def _compute_klodr_member_id(self):
        Member = self.env["klodr.member"].sudo()
        for move in self:
            partner = move.partner_id
            member = Member
            if partner and move.move_type in ("out_invoice", "out_refund"):
                member = Member.search([
                    ("partner_id", "in", (partner | partner.commercial_partner_id).ids),
                    ("company_id", "=", move.company_id.id), ("state", "=", "active")], limit=1)
            move.klodr_member_id = member
            move.klodr_can_redeem = bool(member) and move.move_type == "out_invoice" and (
                move.state == "draft" or (move.state == "posted" and move.company_id.klodr_redemption_as_payment
                                          and move.payment_state in ("not_paid", "partial")))

    @api.depends("klodr_transaction_id", "klodr_redemption_ids.state", "klodr_member_id")
    def _compute_klodr_points(self):
        for move in self:
            transaction = move.sudo().klodr_transaction_id
            move.klodr_points_earned = transaction.points_earned - transaction.points_reversed
            move.klodr_points_redeemed = sum(
                move.sudo().klodr_redemption_ids.filtered(lambda r: r.state == "confirmed").mapped("points"))
            move.klodr_points_balance = (transaction.member_id or move.klodr_member_id).sudo().balance

    def _klodr_order_ref(self):
        """The order reference of the invoice in the ledger (its redemptions and its purchase)."""
        self.ensure_one()
        return f"invoice:{self.id}"

    def _klodr_is_indian(self):
        return self.company_id.account_fiscal_country_id.code == "IN"

    @api.depends("amount_total", "currency_id")
    def _compute_amount_total_words(self):
        """Indian companies' rupee invoices read in lakh and crore, whatever the user's language."""
        indian = self.filtered(lambda m: m._klodr_is_indian() and m.currency_id.name == "INR")
        for move in indian:
            move.amount_total_words = indian_amount_in_words(_money(move.amount_total))
        return super(AccountMove, self - indian)._compute_amount_total_words()

    # ------------------------------------------------------------------
    # HSN summary: discount lines lower the values, not the quantities
    # ------------------------------------------------------------------
    def _l10n_in_get_hsn_summary_table(self):
        self.ensure_one()
        base_lines, _tax_lines = self._get_rounded_base_and_tax_lines()
        for base_line in base_lines:
            if base_line["record"] and base_line["record"].klodr_redemption_id:
                base_line["quantity"] = 0.0
        display_uom = self.env.user.has_group("uom.group_uom")
        return self.env["account.tax"]._l10n_in_get_hsn_summary_table(base_lines, display_uom)

    # ------------------------------------------------------------------
    # Redemption
    # ------------------------------------------------------------------
    def action_klodr_redeem(self):
        self.ensure_one()
        if not self.klodr_can_redeem:
            raise UserError(self.env._("Points can be redeemed on a draft customer invoice of a loyalty member."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Redeem Loyalty Points"),
            "res_model": "klodr.invoice.redeem",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

    def _klodr_redeemable_base(self):
        """What a redemption may discount (untaxed) or pay (total)."""
        self.ensure_one()
        if self.company_id.klodr_redemption_as_payment:
            return _money(self.amount_residual if self.state == "posted" else self.amount_total)
        return _money(self.amount_untaxed)

    def _klodr_discount_bases(self):
        """``{(tax ids, HSN, uom id): (net base, income account)}`` of the lines a discount spreads over.

        Net of earlier loyalty discounts of the same set, so a second redemption never takes a
        set below zero.
        """
        self.ensure_one()
        bases, accounts = {}, {}
        for line in self.invoice_line_ids.filtered(lambda ln: ln.display_type == "product"):
            key = (tuple(sorted(line.tax_ids.ids)), line.l10n_in_hsn_code or "", line.product_uom_id.id or False)
            bases[key] = bases.get(key, Decimal(0)) + _money(line.price_subtotal)
            if not line.klodr_redemption_id and line.price_subtotal > 0 and key not in accounts:
                accounts[key] = line.account_id
        return {key: (base, accounts.get(key)) for key, base in bases.items() if base > 0 and accounts.get(key)}

    def _klodr_apply_redemption(self, redemption):
        """Put a confirmed redemption on the invoice: discount lines, or a credit when it is a payment."""
        self.ensure_one()
        if self.company_id.klodr_redemption_as_payment:
            redemption.sudo().write({"invoice_id": self.id, "invoice_mode": "payment"})
            if self.state == "posted":
                self._klodr_apply_credits(redemption)
            return
        redemption.sudo().write({"invoice_id": self.id, "invoice_mode": "discount"})
        self._klodr_add_discount_lines(redemption)

    def _klodr_add_discount_lines(self, redemption):
        """One discount line per tax set (and HSN), before tax, in proportion to what it discounts.

        The parts come from the largest-remainder apportionment, so they add up to the
        redemption's amount to the paisa; each line carries the taxes, HSN code and unit of the
        lines it discounts, so GST (CGST/SGST or IGST, by place of supply) is computed on the
        discounted value and the HSN summary shows post-discount values.
        """
        self.ensure_one()
        if self.state != "draft":
            raise UserError(self.env._("Discount lines can only be added to a draft invoice."))
        bases = self._klodr_discount_bases()
        total = _money(redemption.discount_amount)
        rounding = _money(self.currency_id.rounding)
        if total > sum((base for base, _account in bases.values()), Decimal(0)):
            raise UserError(self.env._("The redemption is worth more than the invoice lines it would discount."))
        parts = apportion_by_key(total, {key: base for key, (base, _account) in bases.items()}, rounding)
        label = self.env._("Loyalty points redeemed (%(points)s %(symbol)s, %(name)s)",
                           points=redemption.points, symbol=redemption.program_id.points_symbol, name=redemption.name)
        commands = []
        for key, part in parts.items():
            if not part:
                continue
            tax_ids, hsn, uom_id = key
            commands.append(Command.create({
                "display_type": "product",
                "name": f"{label} HSN {hsn}" if hsn else label,
                "quantity": 1.0,
                "price_unit": -float(part),
                "tax_ids": [Command.set(list(tax_ids))],
                "account_id": bases[key][1].id,
                "product_uom_id": uom_id,
                "l10n_in_hsn_code": hsn or False,
                "klodr_redemption_id": redemption.id,
            }))
        self.write({"invoice_line_ids": commands})

    def _klodr_apply_credits(self, redemptions):
        """Pay the posted invoice with ``redemptions`` (payment mode): one entry per redemption, debit the
        company's loyalty redemption account, credit the customer, reconciled with the invoice."""
        self.ensure_one()
        account = self.company_id.klodr_redemption_account_id
        if not account:
            raise UserError(self.env._("Set the Loyalty Redemption Account in the Invoicing settings first."))
        receivable = self.line_ids.filtered(lambda ln: ln.account_id.account_type == "asset_receivable")
        journal = redemptions[:1].program_id.liability_journal_id or self.env["account.journal"].search(
            [("company_id", "=", self.company_id.id), ("type", "=", "general")], limit=1)
        for redemption in redemptions.filtered(lambda r: not r.credit_move_id and r.state == "confirmed"):
            amount = redemption.discount_amount
            label = self.env._("Loyalty points %(name)s on %(invoice)s", name=redemption.name, invoice=self.name)
            credit = self.env["account.move"].sudo().create({
                "move_type": "entry", "journal_id": journal.id, "company_id": self.company_id.id,
                "date": self.invoice_date or fields.Date.context_today(self), "ref": label,
                "line_ids": [
                    Command.create({"account_id": account.id, "name": label, "debit": amount,
                                    "partner_id": self.commercial_partner_id.id}),
                    Command.create({"account_id": receivable[:1].account_id.id, "name": label, "credit": amount,
                                    "partner_id": self.commercial_partner_id.id}),
                ],
            })
            credit.action_post()
            (credit.line_ids.filtered(lambda ln: ln.account_id == receivable[:1].account_id) | receivable).reconcile()
            redemption.sudo().credit_move_id = credit

    # ------------------------------------------------------------------
    # Earning and reversing
    # ------------------------------------------------------------------
    def _klodr_earn_basis(self):
        """The amount an invoice (or credit note) earns on: the taxable value after the loyalty discount, or
        the total after tax, by company setting; a credit applied as a payment is left out."""
        self.ensure_one()
        untaxed, total = _money(self.amount_untaxed), _money(self.amount_total)
        credit = sum((_money(r.discount_amount) for r in self.sudo().klodr_redemption_ids
                      if r.state == "confirmed" and r.invoice_mode == "payment"), Decimal(0))
        rounding = _money(self.currency_id.rounding)
        if self.company_id.klodr_earn_basis == "total":
            return max(total - credit, Decimal(0))
        if credit and total:
            credit = largest_remainder(credit, [untaxed, total - untaxed], rounding)[0]
        return max(untaxed - credit, Decimal(0))

    def _klodr_order_lines(self, basis):
        """The product lines for the rules, their amounts scaled to ``basis`` (exact to the paisa)."""
        self.ensure_one()
        Transaction = self.env["klodr.transaction"]
        lines = self.invoice_line_ids.filtered(
            lambda ln: ln.display_type == "product" and ln.product_id and not ln.klodr_redemption_id
            and ln.price_subtotal > 0)
        if not lines:
            return []
        field = "price_total" if self.company_id.klodr_earn_basis == "total" else "price_subtotal"
        weights = [_money(line[field]) for line in lines]
        basis = min(basis, sum(weights))
        amounts = largest_remainder(basis, weights, _money(self.currency_id.rounding))
        return [Transaction._pure_line(line.product_id, line.quantity, amount)
                for line, amount in zip(lines, amounts, strict=True)]

    def _klodr_earn(self):
        """Points for a posted customer invoice of a member, once per invoice."""
        for move in self.filtered(lambda m: m.move_type == "out_invoice" and not m.klodr_transaction_id):
            member = move.klodr_member_id
            if not member:
                continue
            ref = move._klodr_order_ref()
            existing = self.env["klodr.transaction"].sudo().search(
                [("program_id", "=", member.program_id.id), ("order_ref", "=", ref)], limit=1)
            if existing:
                move.sudo().klodr_transaction_id = existing
                continue
            basis = move._klodr_earn_basis()
            try:
                with self.env.cr.savepoint():
                    transaction = member.sudo()._earn_order(basis, order_ref=ref, lines=move._klodr_order_lines(basis))
            except LoyaltyError as exc:
                _logger.info("Invoice %s earned no points: %s", move.name, exc)
                continue
            move.sudo().klodr_transaction_id = transaction

    def _klodr_reverse_points(self, transaction, ref, amount):
        """Reverse ``transaction``'s points (and give back points redeemed on it) for ``amount`` refunded."""
        rounding = _money(self.currency_id.rounding)
        left = _money(transaction.amount) - _money(transaction.refunded_amount)
        amount = min(amount.quantize(rounding), left)
        if amount <= 0:
            return None
        return transaction.sudo()._refund(ref, amount)

    def _klodr_refund_from_credit_notes(self):
        for move in self.filtered(lambda m: m.move_type == "out_refund" and m.reversed_entry_id):
            transaction = move.reversed_entry_id.sudo().klodr_transaction_id
            if not transaction:
                continue
            origin = move.reversed_entry_id
            # the credit note's share of the invoice, on the invoice's own earning basis
            basis = move._klodr_earn_basis()
            origin_basis = origin._klodr_earn_basis()
            amount = _money(transaction.amount) if basis >= origin_basis else (
                _money(transaction.amount) * basis / origin_basis if origin_basis else Decimal(0))
            move._klodr_reverse_points(transaction, f"credit-note:{move.id}", amount)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        for move in posted.filtered(lambda m: m.move_type == "out_invoice"):
            payments = move.sudo().klodr_redemption_ids.filtered(
                lambda r: r.invoice_mode == "payment" and r.state == "confirmed" and not r.credit_move_id)
            if payments:
                move._klodr_apply_credits(payments)
        posted._klodr_earn()
        posted._klodr_refund_from_credit_notes()
        return posted

    def button_cancel(self):
        res = super().button_cancel()
        for move in self.filtered(lambda m: m.move_type == "out_invoice"):
            transaction = move.sudo().klodr_transaction_id
            redemptions = move.sudo().klodr_redemption_ids
            if transaction:
                # gives back the points redeemed on the invoice in the same proportion
                move._klodr_reverse_points(transaction, f"cancel:{move.id}", _money(transaction.amount))
            else:
                for redemption in redemptions.filtered(lambda r: r.state in ("pending_otp", "confirmed")):
                    redemption._cancel(self.env._("Invoice cancelled"))
            for credit in redemptions.credit_move_id.filtered(lambda m: m.state == "posted"):
                credit._reverse_moves(cancel=True)
        return res

    @api.ondelete(at_uninstall=False)
    def _klodr_unlink_gives_points_back(self):
        for redemption in self.sudo().klodr_redemption_ids.filtered(lambda r: r.state in ("pending_otp", "confirmed")):
            redemption._cancel(self.env._("Invoice deleted"))


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    klodr_redemption_id = fields.Many2one("klodr.redemption", string="Loyalty Redemption", readonly=True,
                                          copy=False, index="btree_not_null", ondelete="restrict")
