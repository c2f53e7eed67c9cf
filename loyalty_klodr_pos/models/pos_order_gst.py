"""What an Indian company's receipt needs from the server: the amount in words, and the HSN of
the loyalty discount lines.

No dependency on l10n_in / l10n_in_pos (DESIGN.md): an Indian company is known by its country
(India) and currency (INR); the HSN field of order lines (``l10n_in_hsn_code``, from l10n_in_pos)
is used only when it exists.
"""
from decimal import Decimal

from odoo import api, fields, models

from odoo.addons.loyalty_klodr.tools.amount_words import indian_amount_in_words

PAID_STATES = ("paid", "done", "invoiced")
HSN_FIELD = "l10n_in_hsn_code"


def is_indian(company, currency):
    return company.country_id.code == "IN" and currency.name == "INR"


class PosOrder(models.Model):
    _inherit = "pos.order"

    # Not stored: computed when the POS reads the order, i.e. in the answer of the sync that
    # precedes the receipt. Computed fields are never sent back by the browser.
    klodr_amount_words = fields.Char(
        string="Amount in Words", compute="_compute_klodr_amount_words",
        help="Indian rupee orders: the amount paid in lakh and crore (num2words en_IN), whatever the language.")

    @api.depends("amount_total", "state", "currency_id", "company_id", "payment_ids")
    def _compute_klodr_amount_words(self):
        for order in self:
            words = False
            # Only a paid order's amount is final: a draft's words could go stale in the browser.
            if order.state in PAID_STATES and is_indian(order.company_id, order.currency_id):
                amount = order._get_rounded_amount(order.amount_total)  # the "To Pay" of the receipt
                words = indian_amount_in_words(Decimal(str(amount)))
            order.klodr_amount_words = words

    @api.model
    def _process_order(self, order, existing_order):
        # Words are the server's; an HSN is only named by a discount line (checked below).
        order.pop("klodr_amount_words", None)
        for command in order.get("lines") or []:
            if isinstance(command, (list, tuple)) and len(command) == 3 and isinstance(command[2], dict) \
                    and not command[2].get("klodr_reward_line"):
                command[2].pop("klodr_hsn_code", None)
        return super()._process_order(order, existing_order)

    def _process_saved_order(self, draft):
        self._klodr_check_reward_hsn()
        return super()._process_saved_order(draft)

    def _klodr_check_reward_hsn(self):
        """Loyalty discount lines carry the HSN of what they discount (the browser says which, from
        the server's split): keep it only if a sold line of the same tax set has that HSN, so the
        HSN summary and the session's entries show post-discount values per HSN."""
        Line = self.env["pos.order.line"]
        if HSN_FIELD not in Line._fields:
            return
        rewards = self.lines.filtered(lambda line: line.klodr_reward_line and line.klodr_hsn_code)
        if not rewards:
            return
        sold = {(frozenset(line.tax_ids.ids), line[HSN_FIELD]) for line in self.lines - rewards}
        for line in rewards:
            hsn = line.klodr_hsn_code if (frozenset(line.tax_ids.ids), line.klodr_hsn_code) in sold else False
            if (line.klodr_hsn_code, line[HSN_FIELD]) != (hsn, hsn):
                line.write({"klodr_hsn_code": hsn, HSN_FIELD: hsn})


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    klodr_hsn_code = fields.Char(
        string="Discounted HSN/SAC", readonly=True,
        help="On a loyalty discount line: the HSN/SAC code of the goods it discounts.")

    @api.model
    def _load_pos_data_fields(self, config):
        return [*super()._load_pos_data_fields(config), "klodr_hsn_code"]
