/* Klodr Loyalty at the counter, in a real browser. The Python side (tests/test_frontend.py)
 * sets up the program, a Silver member (mobile 98450 11111, 1,200 points), the products
 * and fixes the OTP generator to 424242. */
import { registry } from "@web/core/registry";
import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/pos/tours/utils/ticket_screen_util";
import * as Order from "@point_of_sale/../tests/generic_helpers/order_widget_util";
import * as OfflineUtil from "@point_of_sale/../tests/generic_helpers/offline_util";
import { inLeftSide } from "@point_of_sale/../tests/pos/tours/utils/common";

export const OTP = "424242";

// The POS loads its data first: on a loaded machine that can take longer than a step's 10 s.
export const waitForPos = { content: "the POS is loaded", trigger: ".screen-login .btn.open-register-btn", timeout: 60000 };

export function findMember(query, name) {
    return [
        { content: "open the loyalty member dialog", trigger: ".klodr-member-button", run: "click" },
        { content: "type the mobile number", trigger: ".klodr-search", run: `edit ${query}` },
        { trigger: ".klodr-search-button", run: "click" },
        { content: "the member is found", trigger: `.klodr-found:contains("${name}")` },
        { trigger: ".klodr-select-member", run: "click" },
        { content: "the panel shows the member", trigger: `.klodr-member-name:contains("${name}")` },
    ];
}

export function payAndShowReceipt() {
    return [
        ProductScreen.clickPayButton(),
        PaymentScreen.clickPaymentMethod("Bank"),
        PaymentScreen.clickValidate(),
        // the sync may take a while on a loaded machine
        { content: "receipt screen is shown", trigger: ".pos .receipt-screen", timeout: 30000 },
    ].flat();
}

registry.category("web_tour.tours").add("KlodrPosFindEarnRedeemTour", {
    steps: () =>
        [
            waitForPos,
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickDisplayedProduct("Klodr Saree"),
            findMember("98450 11111", "Priya Counter"),
            { content: "tier in its colour", trigger: ".klodr-tier[style*='background-color']:contains(Silver)" },
            { content: "balance", trigger: ".klodr-balance:contains(1200)" },
            { content: "progress to the next tier", trigger: ".klodr-progress:contains(Gold)" },
            { content: "earn preview from the server", trigger: ".klodr-earn-preview:contains(+150)" },
            ProductScreen.clickDisplayedProduct("Klodr Shirt"),
            { content: "the preview follows the lines", trigger: ".klodr-earn-preview:contains(+200)" },
            // Redeem: eligible rewards, and why the others are not.
            { trigger: ".klodr-redeem", run: "click" },
            { content: "eligible reward", trigger: ".klodr-reward:not([disabled]):contains(Discount 50)" },
            {
                content: "a Gold-only reward says why not",
                trigger: ".klodr-reward[disabled]:contains(Gold Lounge) .klodr-reason",
            },
            { trigger: ".klodr-reward:contains(Discount 50)", run: "click" },
            { content: "the OTP was sent", trigger: ".klodr-otp-step" },
            { trigger: ".klodr-otp-input", run: "edit 000000" },
            { trigger: ".klodr-otp-confirm", run: "click" },
            { content: "wrong OTP refused", trigger: ".klodr-error:contains(Wrong code):contains(2 attempt)" },
            { trigger: ".klodr-otp-input", run: `edit ${OTP}` },
            { trigger: ".klodr-otp-confirm", run: "click" },
            inLeftSide(Order.hasLine({ productName: "Loyalty Reward", price: "-50.00" })),
            { content: "points are held, not yet redeemed", trigger: ".klodr-held:contains(200)" },
            { content: "balance unchanged until the sale", trigger: ".klodr-balance:contains(1200)" },
            payAndShowReceipt(),
            { content: "receipt: member code", trigger: ".klodr-receipt-code:contains(KL)" },
            { content: "receipt: tier", trigger: ".klodr-receipt-tier:contains(Silver)" },
            { content: "receipt: earned on 1,950", trigger: ".klodr-receipt-earned:contains(195)" },
            { content: "receipt: redeemed", trigger: ".klodr-receipt-redeemed:contains(200)" },
            { content: "receipt: new balance", trigger: ".klodr-receipt-balance:contains(1195)" },
            {
                content: "not an Indian company: no amount in words",
                trigger: ".pos-receipt:has(.klodr-receipt-balance):not(:has(.klodr-amount-words))",
            },
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});

registry.category("web_tour.tours").add("KlodrPosEnrollTour", {
    steps: () =>
        [
            waitForPos,
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickDisplayedProduct("Klodr Saree"),
            { trigger: ".klodr-member-button", run: "click" },
            { trigger: ".klodr-search", run: "edit 9845077777" },
            { trigger: ".klodr-search-button", run: "click" },
            { content: "not a member yet", trigger: ".klodr-not-found .klodr-enroll-start", run: "click" },
            { content: "mobile carried over", trigger: ".klodr-enroll-mobile:value(9845077777)" },
            { trigger: ".klodr-enroll-name", run: "edit Neha Newcomer" },
            {
                trigger: ".klodr-enroll-birthday",
                run() {
                    // a date input: set it as the browser's date picker does
                    const input = document.querySelector(".klodr-enroll-birthday");
                    input.value = "1992-03-14";
                    input.dispatchEvent(new Event("input", { bubbles: true }));
                },
            },
            { trigger: ".klodr-enroll-referral", run: "edit REFPRIYA" },
            { trigger: ".klodr-enroll-confirm", run: "click" },
            { content: "enrolled and on the order", trigger: ".klodr-member-name:contains(Neha Newcomer)" },
            { content: "earn preview", trigger: ".klodr-earn-preview:contains(+150)" },
            payAndShowReceipt(),
            { content: "receipt: earned", trigger: ".klodr-receipt-earned:contains(150)" },
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});

registry.category("web_tour.tours").add("KlodrPosRefundTour", {
    steps: () =>
        [
            waitForPos,
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickDisplayedProduct("Klodr Saree"),
            ProductScreen.clickDisplayedProduct("Klodr Shirt"),
            findMember("KLPRIYA", "Priya Counter"),
            { content: "earn preview", trigger: ".klodr-earn-preview:contains(+200)" },
            payAndShowReceipt(),
            { trigger: ".klodr-receipt-earned:contains(200)" },
            { trigger: ".klodr-receipt-balance:contains(1400)" },
            ReceiptScreen.clickNextOrder(),
            // Return the saree from the ticket screen.
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrderByPrice("2,000.00"),
            inLeftSide([
                ...Order.hasLine({ productName: "Klodr Saree", run: "click" }),
                ...Order.hasLine({ productName: "Klodr Saree", withClass: ".selected" }),
            ]),
            ProductScreen.clickNumpad("1"),
            TicketScreen.confirmRefund(),
            PaymentScreen.isShown(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            { content: "receipt screen is shown", trigger: ".pos .receipt-screen", timeout: 30000 },
            { content: "receipt: points reversed (1,500 of 2,000)", trigger: ".klodr-receipt-reversed:contains(150)" },
            { content: "receipt: balance after the refund", trigger: ".klodr-receipt-balance:contains(1250)" },
            ReceiptScreen.clickNextOrder(),
        ].flat(),
});

registry.category("web_tour.tours").add("KlodrPosOfflineTour", {
    steps: () =>
        [
            waitForPos,
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickDisplayedProduct("Klodr Saree"),
            findMember("98450 11111", "Priya Counter"),
            OfflineUtil.setOfflineMode(),
            { content: "go offline: the POS notices", trigger: "body", run: () => window.dispatchEvent(new Event("offline")) },
            {
                content: "redemption says it needs the server",
                trigger: ".klodr-offline:contains(Redemption needs the server)",
            },
            OfflineUtil.setOnlineMode(),
        ].flat(),
});
