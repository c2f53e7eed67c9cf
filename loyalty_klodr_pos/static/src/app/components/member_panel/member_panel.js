import { Component, useEffect, onWillUnmount } from "@odoo/owl";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { useService } from "@web/core/utils/hooks";
import { debounce } from "@web/core/utils/timing";
import { KlodrMemberDialog } from "../member_dialog/member_dialog";
import { KlodrRedeemDialog } from "../redeem_dialog/redeem_dialog";

export const PREVIEW_DELAY_MS = 400;

/** The member on the order: tier, balance, held and expiring points, what the order will earn. */
export class KlodrMemberPanel extends Component {
    static template = "loyalty_klodr_pos.KlodrMemberPanel";
    static props = {};

    setup() {
        this.pos = usePos();
        this.dialog = useService("dialog");
        // One server call once the lines stop changing, not one per keystroke.
        this.schedulePreview = debounce((order) => this.pos.klodrPreview(order), PREVIEW_DELAY_MS);
        onWillUnmount(() => this.schedulePreview.cancel());
        useEffect(
            () => {
                const order = this.order;
                if (order && this.member && !order.finalized) {
                    this.schedulePreview(order);
                }
            },
            () => [this.order, this.member?.id, this.linesKey]
        );
        useEffect(
            () => {
                this.pos.klodrFindMemberOfOrder(this.order);
            },
            () => [this.order?.klodr_member_code]
        );
    }
    get order() {
        return this.pos.getOrder();
    }
    get member() {
        return this.pos.klodrMemberOf(this.order);
    }
    get linesKey() {
        return JSON.stringify(this.pos.klodrLines(this.order || { getOrderlines: () => [] }));
    }
    get preview() {
        return this.order?.uiState?.klodrPreview;
    }
    get symbol() {
        return this.pos.klodrSettings.points_symbol || "";
    }
    openMember() {
        this.dialog.add(KlodrMemberDialog, {});
    }
    openRedeem() {
        this.dialog.add(KlodrRedeemDialog, {});
    }
    removeMember() {
        this.pos.klodrSetMember(this.order, null);
    }
}
