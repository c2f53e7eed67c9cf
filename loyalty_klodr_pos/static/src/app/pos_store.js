/**
 * Klodr Loyalty in the POS: the browser only asks the server and shows its answers.
 * Points are computed on the server (preview here, ledger when the paid order syncs).
 */
import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/services/pos_store";
import { _t } from "@web/core/l10n/translation";

patch(PosStore.prototype, {
    async afterProcessServerData() {
        await super.afterProcessServerData(...arguments);
        // Members shown on this device, by id, as the server last described them.
        this.klodrMembers = {};
        if (this.klodrEnabled) {
            this.data.connectWebSocket("KLODR_MEMBER", (payload) => this.klodrOnMembersChanged(payload));
        }
    },
    get klodrSettings() {
        return this.config._klodr || { enabled: false };
    },
    get klodrEnabled() {
        return Boolean(this.klodrSettings.enabled);
    },
    get klodrOffline() {
        return Boolean(this.data.network?.offline);
    },
    /** Call a loyalty method of this point of sale on the server. */
    klodrCall(method, ...args) {
        return this.data.call("pos.config", method, [[this.config.id], ...args]);
    },
    klodrRemember(member) {
        if (member && member.id) {
            this.klodrMembers[member.id] = member;
        }
        return member;
    },
    klodrMemberOf(order) {
        const code = order?.klodr_member_code;
        if (!code) {
            return null;
        }
        return Object.values(this.klodrMembers).find((m) => m.code === code) || null;
    },
    async klodrFindMember(query) {
        return this.klodrRemember(await this.klodrCall("klodr_find_member", query));
    },
    async klodrEnroll(vals) {
        const result = await this.klodrCall("klodr_enroll_member", vals);
        if (result && !result.error) {
            this.klodrRemember(result);
        } else if (result?.member) {
            this.klodrRemember(result.member);
        }
        return result;
    },
    async klodrRefreshMember(memberId) {
        return this.klodrRemember(await this.klodrCall("klodr_member_info", memberId));
    },
    async klodrFindMemberOfOrder(order) {
        // An order restored from the local database knows its member's code only.
        if (order?.klodr_member_code && !this.klodrMemberOf(order) && !this.klodrOffline) {
            await this.klodrFindMember(order.klodr_member_code);
        }
        return this.klodrMemberOf(order);
    },
    klodrSetMember(order, member) {
        order.klodr_member_code = member ? member.code : false;
        order.uiState.klodrPreview = null;
        if (member) {
            this.klodrRemember(member);
        }
    },
    /** The order's lines as the server values them (it recomputes every amount). */
    klodrLines(order) {
        return order.getOrderlines().map((line) => ({
            product_id: line.product_id.id,
            qty: line.qty,
            price_unit: line.price_unit,
            discount: line.discount || 0,
            tax_ids: line.tax_ids.map((tax) => tax.id),
            klodr_reward: Boolean(line.klodr_reward_line),
        }));
    },
    async klodrPreview(order) {
        const member = this.klodrMemberOf(order);
        if (!member || this.klodrOffline) {
            return null;
        }
        const preview = await this.klodrCall(
            "klodr_preview_points",
            member.id,
            this.klodrLines(order),
            order.fiscal_position_id?.id || false
        );
        order.uiState.klodrPreview = preview;
        return preview;
    },
    async klodrOnMembersChanged(payload) {
        const shown = new Set(
            this.models["pos.order"].filter((o) => !o.finalized).map((o) => this.klodrMemberOf(o)?.id)
        );
        for (const memberId of payload?.member_ids || []) {
            if (shown.has(memberId)) {
                await this.klodrRefreshMember(memberId);
            }
        }
    },
    /** Put the reward lines the server computed on the order. */
    async klodrAddRewardLines(order, redemption) {
        const lines = redemption.lines || [];
        for (const vals of lines) {
            let product = this.models["product.product"].get(vals.product_id);
            if (!product) {
                await this.data.read("product.product", [vals.product_id]);
                product = this.models["product.product"].get(vals.product_id);
            }
            if (!product) {
                throw new Error(_t("The reward's product is not available in this point of sale."));
            }
            const taxes = vals.tax_ids.map((id) => this.models["account.tax"].get(id)).filter(Boolean);
            const hsn = vals.hsn_code ? { klodr_hsn_code: vals.hsn_code } : {};
            if (vals.hsn_code && "l10n_in_hsn_code" in this.models["pos.order.line"].fields) {
                hsn.l10n_in_hsn_code = vals.hsn_code; // shown under the line by l10n_in_pos
            }
            this.models["pos.order.line"].create({
                order_id: order,
                product_id: product,
                qty: vals.qty,
                price_unit: vals.price_unit,
                discount: vals.discount,
                price_type: "manual",
                full_product_name: vals.name,
                tax_ids: taxes.map((tax) => ["link", tax]),
                klodr_reward_line: true,
                ...hsn,
            });
        }
        order.uiState.klodrRedemptions = [
            ...(order.uiState.klodrRedemptions || []),
            { id: redemption.redemption_id, name: redemption.name, points: redemption.points },
        ];
        this.klodrRemember(redemption.member);
    },
    /** Redemptions of an order that will not be paid are taken back (the hold is released). */
    async klodrCancelRedemptions(order) {
        const redemptions = order?.uiState?.klodrRedemptions || [];
        if (!redemptions.length || this.klodrOffline) {
            return;
        }
        for (const redemption of redemptions) {
            await this.klodrCall("klodr_cancel_redemption", redemption.id);
        }
        order.uiState.klodrRedemptions = [];
        for (const line of order.getOrderlines().filter((l) => l.klodr_reward_line)) {
            line.delete();
        }
    },
    async _onBeforeDeleteOrder(order) {
        const proceed = await super._onBeforeDeleteOrder(...arguments);
        if (proceed && this.klodrEnabled && !order.finalized) {
            await this.klodrCancelRedemptions(order);
        }
        return proceed;
    },
});
