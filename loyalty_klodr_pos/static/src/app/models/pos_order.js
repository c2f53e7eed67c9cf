/**
 * The receipt of an Indian company (country India, currency INR): the amount in words, in lakh
 * and crore, whatever the language; and loyalty discount lines counted under the HSN they
 * discount in l10n_in_pos's HSN summary.
 */
import { patch } from "@web/core/utils/patch";
import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { PosOrderline } from "@point_of_sale/app/models/pos_order_line";
import { indianAmountInWords } from "../amount_words";

patch(PosOrder.prototype, {
    get klodrIsIndian() {
        return this.company?.country_id?.code === "IN" && this.currency?.name === "INR";
    },
    /**
     * The server's words (num2words en_IN, loyalty_klodr/tools/amount_words.py) once the paid
     * order has synced, which the normal flow does before the receipt. An order the server has
     * not seen (offline) is read here by a port of the same function, tested against it on
     * thousands of amounts, from the amount the receipt shows to pay: both give the same words,
     * so an offline receipt is as complete as an online one.
     */
    get klodrAmountWords() {
        if (!this.klodrIsIndian) {
            return "";
        }
        if (this.klodr_amount_words) {
            return this.klodr_amount_words;
        }
        const toPay = this.currency.round(this.priceIncl + (this.appliedRounding || 0));
        return indianAmountInWords(toPay);
    },
});

patch(PosOrderline.prototype, {
    // l10n_in_pos reads the HSN of a line from its product: a loyalty discount line (one
    // product for all) takes the HSN of the goods it discounts instead. This patch wraps
    // l10n_in_pos's (its assets come first: assets follow the addons' names, l10n_in_pos <
    // loyalty_klodr_pos); the Indian tour checks the summary.
    prepareBaseLineForTaxesComputationExtraValues(customValues = {}) {
        const values = super.prepareBaseLineForTaxesComputationExtraValues(...arguments);
        if (this.klodr_reward_line && this.klodr_hsn_code) {
            values.l10n_in_hsn_code = this.klodr_hsn_code;
        }
        return values;
    },
});
