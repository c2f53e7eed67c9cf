import { patch } from "@web/core/utils/patch";
import { ProductScreen } from "@point_of_sale/app/screens/product_screen/product_screen";
import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";
import { KlodrMemberPanel } from "../components/member_panel/member_panel";
import { KlodrMemberDialog } from "../components/member_dialog/member_dialog";

patch(ProductScreen, {
    components: { ...ProductScreen.components, KlodrMemberPanel },
});

patch(ControlButtons.prototype, {
    clickKlodrMember() {
        this.dialog.add(KlodrMemberDialog, {});
    },
    get klodrMember() {
        return this.pos.klodrMemberOf(this.currentOrder);
    },
});
