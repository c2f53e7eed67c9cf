import base64

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..tools import codes as pure_codes

MAX_CODES_PER_BATCH = 100_000
# Codes inserted per statement while generating.
_INSERT_CHUNK = 20_000


class KlodrCodeBatch(models.Model):
    """A batch of single-use promotional codes (scratch-off cards, printed coupons, SMS codes).

    Each code gives its points, or its reward, once, to the first member who redeems it.
    """

    _name = "klodr.code.batch"
    _description = "Loyalty Code Batch"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(required=True, tracking=True)
    program_id = fields.Many2one("klodr.program", required=True, index=True, ondelete="cascade", tracking=True,
                                 default=lambda self: self.env["klodr.program"].search(
                                     [("company_id", "in", self.env.companies.ids)], limit=1))
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    active = fields.Boolean(default=True, tracking=True,
                            help="Codes of an archived batch are refused as expired.")
    kind = fields.Selection([("points", "Points"), ("reward", "Reward")], string="Gives", required=True,
                            default="points", tracking=True)
    points = fields.Integer(tracking=True, help="Bonus points each code gives.")
    reward_id = fields.Many2one("klodr.reward", ondelete="restrict", tracking=True,
                                domain="[('program_id', '=', program_id)]",
                                help="Reward each code gives (no points are spent).")
    quantity = fields.Integer(default=100, required=True, help="How many codes the batch holds.")
    prefix = fields.Char(help="Letters or digits every code starts with, e.g. DIWALI.")
    code_length = fields.Integer(string="Random Characters", default=pure_codes.DEFAULT_LENGTH, required=True,
                                 help="Length of the random part, after the prefix.")
    date_to = fields.Date(string="Valid Until", tracking=True,
                          help="Last day (in the program's timezone) a code can be redeemed; empty: no end.")
    description = fields.Text(help="Where the codes go (campaign, print run, partner).")
    code_ids = fields.One2many("klodr.code", "batch_id", string="Codes")
    code_count = fields.Integer(string="Number of Codes", compute="_compute_counts")
    used_count = fields.Integer(string="Used", compute="_compute_counts")
    available_count = fields.Integer(string="Available", compute="_compute_counts")
    expired_count = fields.Integer(string="Expired", compute="_compute_counts")
    is_expired = fields.Boolean(compute="_compute_is_expired",
                                help="Past its validity or archived: its codes are refused.")

    _quantity_range = models.Constraint(
        f"CHECK(quantity > 0 AND quantity <= {MAX_CODES_PER_BATCH})",
        f"A batch holds between 1 and {MAX_CODES_PER_BATCH:,} codes.")
    _points_positive = models.Constraint("CHECK(points >= 0)", "Points cannot be negative.")
    _code_length_range = models.Constraint(
        f"CHECK(code_length >= {pure_codes.MIN_LENGTH} AND code_length <= {pure_codes.MAX_LENGTH})",
        f"Codes have {pure_codes.MIN_LENGTH} to {pure_codes.MAX_LENGTH} random characters.")

    @api.depends("code_ids.state")
    def _compute_counts(self):
        counts = {}
        ids = [i for i in self._origin.ids if i]
        if ids:
            for batch, state, count in self.env["klodr.code"].sudo()._read_group(
                    [("batch_id", "in", ids)], ["batch_id", "state"], ["__count"]):
                counts.setdefault(batch.id, {})[state] = count
        for batch in self:
            by_state = counts.get(batch._origin.id, {})
            batch.code_count = sum(by_state.values())
            batch.used_count = by_state.get("used", 0)
            batch.available_count = by_state.get("available", 0)
            batch.expired_count = by_state.get("expired", 0)

    @api.depends("date_to", "active", "program_id.tz")
    def _compute_is_expired(self):
        for batch in self:
            batch.is_expired = batch._refuses_codes()

    def _refuses_codes(self, today=None):
        """Archived, or past its last valid day in the program's timezone."""
        self.ensure_one()
        if not self.active:
            return True
        if not self.date_to:
            return False
        today = today or self.env["klodr.member"]._local_today(self.program_id)
        return today > self.date_to

    @api.constrains("kind", "points", "reward_id", "program_id")
    def _check_gift(self):
        for batch in self:
            if batch.kind == "points" and batch.points <= 0:
                raise ValidationError(self.env._("Batch %s: enter the points each code gives.", batch.name))
            if batch.kind == "reward":
                if not batch.reward_id:
                    raise ValidationError(self.env._("Batch %s: choose the reward each code gives.", batch.name))
                if batch.reward_id.program_id != batch.program_id:
                    raise ValidationError(self.env._(
                        "Batch %s: the reward belongs to another program.", batch.name))

    @api.constrains("prefix", "code_length")
    def _check_prefix(self):
        for batch in self:
            try:
                pure_codes.normalize_prefix(batch.prefix)
                pure_codes.check_length(batch.code_length)
            except pure_codes.InvalidCodeSettings as exc:
                raise ValidationError(self.env._("Batch %(name)s: %(error)s", name=batch.name, error=exc)) from exc

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("prefix"):
                vals["prefix"] = self._clean_prefix(vals["prefix"])
        return super().create(vals_list)

    def write(self, vals):
        if "prefix" in vals and vals["prefix"]:
            vals["prefix"] = self._clean_prefix(vals["prefix"])
        for batch in self:
            look = [f for f in ("program_id", "prefix", "code_length") if batch._differs(f, vals)]
            gift = [f for f in ("kind", "points", "reward_id") if batch._differs(f, vals)]
            if (look and batch.code_count) or (gift and batch.used_count):
                raise UserError(self.env._(
                    "Batch %s: its codes exist (or were redeemed); how they look and what redeemed codes "
                    "gave cannot change. Create a new batch instead.", batch.name))
        if "quantity" in vals:
            for batch in self:
                if vals["quantity"] < batch.code_count:
                    raise UserError(self.env._(
                        "Batch %(name)s already holds %(count)s codes: the quantity cannot be lower.",
                        name=batch.name, count=batch.code_count))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_redeemed(self):
        if self.sudo().code_ids.filtered(lambda c: c.state == "used"):
            raise UserError(self.env._("A batch with redeemed codes cannot be deleted: archive it."))

    def _differs(self, field_name, vals):
        if field_name not in vals:
            return False
        value = self[field_name]
        if isinstance(value, models.BaseModel):
            return value.id != (vals[field_name] or False)
        return (value or False) != (vals[field_name] or False)

    @api.model
    def _clean_prefix(self, prefix):
        try:
            return pure_codes.normalize_prefix(prefix)
        except pure_codes.InvalidCodeSettings as exc:
            raise ValidationError(self.env._("Invalid code prefix: %s", exc)) from exc

    # ------------------------------------------------------------------
    # Generation and export
    # ------------------------------------------------------------------
    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group("loyalty_klodr.group_loyalty_manager"):
            raise UserError(self.env._("Only a Loyalty Manager can generate or export codes."))

    def action_generate(self):
        """Fill each batch up to its quantity with new random codes (a second click adds nothing)."""
        self._check_manager()
        self.check_access("write")
        created = 0
        for batch in self:
            created += batch._generate_codes()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("%s codes generated.", created),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _generate_codes(self):
        """Insert the missing codes in a few set-based statements; returns how many were created.

        The batch row is locked first so two clicks (or two users) cannot both fill it.
        """
        self.ensure_one()
        self.flush_recordset()
        cr = self.env.cr
        cr.execute(SQL("SELECT quantity FROM klodr_code_batch WHERE id = %s FOR UPDATE", self.id))
        quantity = cr.fetchone()[0]
        cr.execute(SQL("SELECT COUNT(*) FROM klodr_code WHERE batch_id = %s", self.id))
        missing = quantity - cr.fetchone()[0]
        program = self.program_id
        created = 0
        fruitless = 0
        while missing > 0:
            chunk = min(missing, _INSERT_CHUNK)
            codes = pure_codes.generate_codes(chunk, self.code_length, self.prefix or "")
            cr.execute(SQL(
                """INSERT INTO klodr_code (batch_id, program_id, company_id, code, state,
                                           create_uid, create_date, write_uid, write_date)
                   SELECT %s, %s, %s, c, 'available', %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC'
                     FROM unnest(%s::varchar[]) AS c
                   ON CONFLICT DO NOTHING""",
                self.id, program.id, program.company_id.id, self.env.uid, self.env.uid, codes))
            # A code already used elsewhere in the program is skipped: the loop makes up for it.
            created += cr.rowcount
            missing -= cr.rowcount
            fruitless = 0 if cr.rowcount else fruitless + 1
            if fruitless >= 3:
                raise UserError(self.env._("Could not find new unique codes: use more random characters."))
        self.env["klodr.code"].invalidate_model()
        self.invalidate_recordset(["code_ids", "code_count", "used_count", "available_count", "expired_count"])
        if created:
            self.message_post(body=self.env._("%s codes generated.", created))
        return created

    def _export_rows(self):
        self.ensure_one()
        self.env["klodr.code"].flush_model()
        self.env.cr.execute(SQL(
            "SELECT code, state FROM klodr_code WHERE batch_id = %s ORDER BY id", self.id))
        states = dict(self.env["klodr.code"]._fields["state"]._description_selection(self.env))
        valid_until = fields.Date.to_string(self.date_to) if self.date_to else ""
        for code, state in self.env.cr.fetchall():
            yield (code, pure_codes.format_code(code, prefix=self.prefix or ""), states.get(state, state),
                   valid_until, self.name)

    def action_export(self):
        """Download the batch's codes as CSV (for the printer, or a partner's mailing)."""
        self.ensure_one()
        self._check_manager()
        self.check_access("read")
        if not self.code_count:
            raise UserError(self.env._("Generate the codes first."))
        content = pure_codes.codes_csv(self._export_rows())
        filename = f"codes-{pure_codes.normalize_code(self.name) or self.id}-{fields.Date.today()}.csv"
        Attachment = self.env["ir.attachment"].sudo()
        # One export file per batch: the previous one is replaced, not piled up.
        Attachment.search([("res_model", "=", self._name), ("res_id", "=", self.id),
                           ("name", "=like", "codes-%.csv"), ("mimetype", "=", "text/csv")]).unlink()
        attachment = Attachment.create({
            "name": filename,
            "datas": base64.b64encode(content.encode("utf-8")),
            "mimetype": "text/csv",
            "res_model": self._name,
            "res_id": self.id,
            "public": False,
        })
        self.message_post(body=self.env._("Codes exported (%s).", self.code_count))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_void_available(self):
        """Void the codes nobody redeemed yet (a lost print run, an ended promotion)."""
        self._check_manager()
        self.check_access("write")
        self.env["klodr.code"].flush_model()
        self.env.cr.execute(SQL(
            """UPDATE klodr_code SET state = 'expired', write_uid = %s, write_date = now() AT TIME ZONE 'UTC'
                WHERE batch_id = ANY(%s) AND state = 'available'""", self.env.uid, self.ids))
        voided = self.env.cr.rowcount
        self.env["klodr.code"].invalidate_model(["state", "write_uid", "write_date"])
        self.invalidate_recordset(["code_count", "used_count", "available_count", "expired_count"])
        for batch in self:
            batch.message_post(body=self.env._("Codes not yet redeemed were voided."))
        return voided

    def action_open_codes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("loyalty_klodr.klodr_code_action")
        action["domain"] = [("batch_id", "=", self.id)]
        action["context"] = {"default_batch_id": self.id}
        return action
