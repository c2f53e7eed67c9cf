import { Component, onWillStart, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { _t } from "@web/core/l10n/translation";

/**
 * Redeem: the rewards the member can take now (and why not the others) or a number of
 * points; the server starts the redemption and sends the OTP; the code the member reads
 * out authorizes it and the server answers with the lines to add.
 */
export class KlodrRedeemDialog extends Component {
    static template = "loyalty_klodr_pos.KlodrRedeemDialog";
    static components = { Dialog };
    static props = { close: Function };

    setup() {
        this.pos = usePos();
        this.state = useState({
            catalogue: null,
            points: "",
            redemption: null,
            otp: "",
            busy: false,
            error: "",
        });
        onWillStart(() => this.load());
    }
    get order() {
        return this.pos.getOrder();
    }
    get member() {
        return this.pos.klodrMemberOf(this.order);
    }
    get fiscalPositionId() {
        return this.order.fiscal_position_id?.id || false;
    }
    async run(func) {
        if (this.pos.klodrOffline) {
            this.state.error = _t("Redemption needs the server: it cannot be done offline.");
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
    load() {
        return this.run(async () => {
            this.state.catalogue = await this.pos.klodrCall(
                "klodr_rewards",
                this.member.id,
                this.pos.klodrLines(this.order),
                this.fiscalPositionId
            );
        });
    }
    start(rewardId, points) {
        return this.run(async () => {
            const result = await this.pos.klodrCall(
                "klodr_start_redemption",
                this.order.uuid,
                this.member.id,
                rewardId || false,
                points || false,
                this.pos.klodrLines(this.order),
                this.fiscalPositionId
            );
            if (result.error) {
                this.state.error = result.message;
                return;
            }
            this.pos.klodrRemember(result.member);
            if (result.status === "confirmed") {
                await this.finish(result);
            } else {
                this.state.redemption = result;
            }
        });
    }
    redeemPoints() {
        const points = parseInt(this.state.points, 10);
        if (!points || points <= 0) {
            this.state.error = _t("Enter a number of points.");
            return;
        }
        return this.start(false, points);
    }
    confirm() {
        return this.run(async () => {
            const result = await this.pos.klodrCall(
                "klodr_confirm_redemption",
                this.state.redemption.redemption_id,
                this.state.otp.trim(),
                this.pos.klodrLines(this.order),
                this.fiscalPositionId
            );
            if (result.error) {
                const left = result.details?.attempts_left;
                this.state.error =
                    left !== undefined && left > 0
                        ? _t("%(message)s %(left)s attempt(s) left.", { message: result.message, left })
                        : result.message;
                this.state.otp = "";
                if (result.status && result.status !== "pending_otp") {
                    this.state.redemption = null;
                    await this.pos.klodrRefreshMember(this.member.id);
                }
                return;
            }
            await this.finish(result);
        });
    }
    resend() {
        return this.run(async () => {
            const result = await this.pos.klodrCall(
                "klodr_resend_otp",
                this.state.redemption.redemption_id
            );
            if (result.error) {
                this.state.error = result.message;
            } else {
                this.state.redemption = result;
            }
        });
    }
    cancel() {
        return this.run(async () => {
            await this.pos.klodrCall("klodr_cancel_redemption", this.state.redemption.redemption_id);
            this.state.redemption = null;
            await this.pos.klodrRefreshMember(this.member.id);
        });
    }
    async finish(result) {
        await this.pos.klodrAddRewardLines(this.order, result);
        this.pos.notification.add(
            _t("%(points)s points redeemed on this order.", { points: result.points }),
            { type: "success" }
        );
        this.props.close();
    }
}
