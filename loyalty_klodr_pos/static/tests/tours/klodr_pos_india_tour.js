/* global posmodel */
/* The receipt of an Indian company (tests/test_frontend_india.py), the cashier working in Hindi:
 * Saree ₹1,25,000 (HSN 5007) and Shirt ₹1,000 (HSN 6205), both at 5% GST; a Silver member
 * (mobile 98450 22222, 1,200 points) redeems "Discount 252" (1,008 points) with the OTP. */
import { registry } from "@web/core/registry";
import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import * as Order from "@point_of_sale/../tests/generic_helpers/order_widget_util";
import * as OfflineUtil from "@point_of_sale/../tests/generic_helpers/offline_util";
import { inLeftSide } from "@point_of_sale/../tests/pos/tours/utils/common";
import { OTP, findMember, payAndShowReceipt, waitForPos } from "./klodr_pos_tour";

/** A step that fails unless the text of ``selector`` is exactly ``expected``. */
function textIs(selector, expected, content) {
    return {
        content,
        trigger: selector,
        run() {
            const text = document.querySelector(selector).textContent.replace(/\s+/g, " ").trim();
            if (text !== expected) {
                throw new Error(`${content}: "${text}" instead of "${expected}"`);
            }
        },
    };
}

/** Where the words of the receipt came from: the order as the sync left it (``fromServer``), or
 * the browser's reading of an order the server has not seen. */
function wordsCameFrom(fromServer, content) {
    return {
        content,
        trigger: ".receipt-screen .klodr-amount-words-text",
        run() {
            const text = document.querySelector(".klodr-amount-words-text").textContent.trim();
            const orders = posmodel.models["pos.order"].filter((o) => o.klodrAmountWords === text);
            const synced = orders.filter((o) => o.klodr_amount_words === text);
            if (!orders.length || Boolean(synced.length) !== fromServer) {
                throw new Error(`${content}: ${orders.length} orders read so, ${synced.length} by the server`);
            }
        },
    };
}

/** The HSN summary row of ``hsn``: CGST and SGST (columns 3 and 4). */
function hsnRow(hsn, cgst, sgst) {
    const row = `.receipt-screen .l10n_in_hsn_summary_table tr:has(td:first-child:contains(${hsn}))`;
    return [
        { content: `HSN ${hsn}: CGST after the discount`, trigger: `${row} td:nth-child(3):contains(${cgst})` },
        { content: `HSN ${hsn}: SGST after the discount`, trigger: `${row} td:nth-child(4):contains(${sgst})` },
    ];
}

registry.category("web_tour.tours").add("KlodrPosIndiaReceiptTour", {
    steps: () =>
        [
            waitForPos,
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickDisplayedProduct("Klodr Saree"),
            ProductScreen.clickDisplayedProduct("Klodr Shirt"),
            findMember("98450 22222", "Priya India"),
            { trigger: ".klodr-redeem", run: "click" },
            { trigger: ".klodr-reward:not([disabled]):contains(Discount 252)", run: "click" },
            { content: "the OTP was sent", trigger: ".klodr-otp-step" },
            { trigger: ".klodr-otp-input", run: `edit ${OTP}` },
            { trigger: ".klodr-otp-confirm", run: "click" },
            // One discount line per tax set and HSN, in proportion: 252 × 1,25,000/1,26,000 = 250
            // and 252 × 1,000/1,26,000 = 2, shown with their 5% GST.
            inLeftSide(Order.hasLine({ productName: "Loyalty Reward", price: "-262.50" })),
            inLeftSide(Order.hasLine({ productName: "Loyalty Reward", price: "-2.10" })),
            payAndShowReceipt(),
            // The loyalty block, from the server's sync.
            { content: "receipt: member", trigger: ".klodr-receipt-code:contains(KLINDIA)" },
            { content: "receipt: tier", trigger: ".klodr-receipt-tier:contains(Silver)" },
            textIs(".klodr-receipt-earned", "1320", "receipt: 1 point per ₹100 of ₹1,32,035.40"),
            textIs(".klodr-receipt-redeemed", "1008", "receipt: points redeemed"),
            textIs(".klodr-receipt-balance", "1512", "receipt: 1,200 + 1,320 − 1,008"),
            // The amount in words: English in lakh and crore, the label in the cashier's Hindi.
            textIs(
                ".klodr-amount-words-text",
                "Rupees One Lakh Thirty-Two Thousand and Thirty-Five and Forty Paise Only",
                "receipt: amount in words (server, en_IN)"
            ),
            wordsCameFrom(true, "the words came with the sync (num2words on the server)"),
            { content: "the label is in Hindi", trigger: ".klodr-amount-words:contains(शब्दों में राशि)" },
            {
                content: "receipt: each discount line under the HSN it discounts",
                trigger: ".pos-receipt .orderline:has(.product-name:contains(Loyalty Reward)):contains(6205)",
            },
            // The discount lines carry the HSN they discount: the summary is after the discount
            // (before it: 3,125.00 and 25.00), with no row for a line without HSN.
            hsnRow("5007", "3,118.75", "3,118.75"),
            hsnRow("6205", "24.95", "24.95"),
            {
                content: "two HSN rows only",
                trigger: ".receipt-screen .l10n_in_hsn_summary_table",
                run() {
                    const rows = document.querySelectorAll(".l10n_in_hsn_summary_table tr").length;
                    if (rows !== 4) {
                        throw new Error(`HSN summary: ${rows - 2} rows instead of 2`);
                    }
                },
            },
            ReceiptScreen.clickNextOrder(),
            // Offline, the receipt reads the amount itself (same words as the server's).
            OfflineUtil.setOfflineMode(),
            ProductScreen.clickDisplayedProduct("Klodr Saree"),
            ProductScreen.clickDisplayedProduct("Klodr Dupatta"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            { content: "receipt screen is shown", trigger: ".pos .receipt-screen", timeout: 30000 },
            Dialog.confirm("Continue with limited functionality"),
            textIs(
                ".klodr-amount-words-text",
                "Rupees One Lakh Thirty-One Thousand Five Hundred and Ninety-Nine and Ninety-Nine Paise Only",
                "offline receipt: amount in words (browser, same as en_IN)"
            ),
            wordsCameFrom(false, "offline: the browser read the amount"),
            OfflineUtil.setOnlineMode(),
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});
