import { Component, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { _t } from "@web/core/l10n/translation";

/** Find a member by mobile number (any format) or member code, or enroll one in a few taps. */
export class KlodrMemberDialog extends Component {
    static template = "loyalty_klodr_pos.KlodrMemberDialog";
    static components = { Dialog };
    static props = { close: Function };

    setup() {
        this.pos = usePos();
        this.state = useState({
            query: "",
            member: null,
            searched: false,
            enrolling: false,
            busy: false,
            error: "",
            form: { name: "", mobile: "", birthday: "", anniversary: "", referral_code: "" },
        });
    }
    async run(func) {
        if (this.pos.klodrOffline) {
            this.state.error = _t("The loyalty server cannot be reached: try again when online.");
            return;
        }
        this.state.busy = true;
        this.state.error = "";
        try {
            await func();
        } finally {
            this.state.busy = false;
        }
    }
    find() {
        return this.run(async () => {
            this.state.member = await this.pos.klodrFindMember(this.state.query.trim());
            this.state.searched = true;
            if (!this.state.member) {
                this.state.form.mobile = this.state.query.trim();
            }
        });
    }
    onKeydown(ev) {
        if (ev.key === "Enter") {
            this.find();
        }
    }
    startEnroll() {
        this.state.enrolling = true;
    }
    enroll() {
        return this.run(async () => {
            const vals = Object.fromEntries(
                Object.entries(this.state.form).filter(([, value]) => value && value.trim())
            );
            const result = await this.pos.klodrEnroll(vals);
            if (result.error === "member_exists" && result.member) {
                this.state.member = result.member;
                this.state.enrolling = false;
                this.state.error = result.message;
            } else if (result.error) {
                this.state.error = result.message;
            } else {
                this.select(result);
            }
        });
    }
    select(member) {
        this.pos.klodrSetMember(this.pos.getOrder(), member);
        this.props.close();
    }
}
