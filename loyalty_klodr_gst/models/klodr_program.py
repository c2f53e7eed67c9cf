import logging
from datetime import datetime, time, timedelta
from decimal import Decimal

import psycopg2
import pytz

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.loyalty_klodr.tools import liability

_logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock(key1, program id): one posting run per program at a time.
_POSTING_LOCK_CLASS = 71_501


class KlodrProgram(models.Model):
    _inherit = "klodr.program"

    liability_method = fields.Selection(
        [(liability.METHOD_COST, "Cost provision (Indian GAAP)"),
         (liability.METHOD_DEFERRED, "Deferred revenue (Ind AS 115 / IFRS 15)")],
        default=liability.METHOD_COST, required=True,
        help="Cost provision: the expected cost of redeeming the points is an expense when they are "
             "issued. Deferred revenue: part of the sale (the points' stand-alone value) is revenue only "
             "when the points are redeemed or expire (breakage).")
    liability_point_value = fields.Float(
        string="Liability Value per Point", digits=(16, 4), default=0.25,
        help="Expected cost of a redeemed point (cost provision) or its stand-alone selling price "
             "(deferred revenue).")
    liability_redemption_rate = fields.Float(
        string="Expected Redemption Rate (%)", digits=(5, 2), default=100.0,
        help="Share of the points issued expected to be redeemed rather than expire.")
    liability_unit = fields.Float(string="Liability per Outstanding Point", digits=(16, 6),
                                  compute="_compute_liability_unit")
    liability_account_id = fields.Many2one(
        "account.account", check_company=True,
        help="Provision for loyalty points (cost) or deferred revenue (contract liability).")
    liability_issue_account_id = fields.Many2one(
        "account.account", string="Issue Account", check_company=True,
        help="Debited when points are issued: the loyalty expense (cost provision) or the sales revenue "
             "deferred (deferred revenue).")
    liability_release_account_id = fields.Many2one(
        "account.account", string="Redemption Account", check_company=True,
        help="Credited when points are redeemed: the loyalty expense written back (cost provision) or "
             "the loyalty revenue recognised (deferred revenue).")
    liability_breakage_account_id = fields.Many2one(
        "account.account", string="Breakage Account", check_company=True,
        help="Credited when points expire: breakage income, or the provision written back.")
    liability_journal_id = fields.Many2one(
        "account.journal", check_company=True,
        domain="[('type', '=', 'general')]")
    liability_posting_ready = fields.Boolean(compute="_compute_liability_posting_ready")
    liability_posting_ids = fields.One2many("klodr.ledger.posting", "program_id", string="Liability Postings")

    _check_liability_rate = models.Constraint(
        "CHECK(liability_redemption_rate >= 0 AND liability_redemption_rate <= 100"
        " AND liability_point_value >= 0)",
        "The expected redemption rate is a percentage and the value per point is not negative.")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # the points' liability value starts as their face value
            if "liability_point_value" not in vals and "point_value" in vals:
                vals["liability_point_value"] = vals["point_value"]
        return super().create(vals_list)

    @api.depends("liability_point_value", "liability_redemption_rate")
    def _compute_liability_unit(self):
        for program in self:
            program.liability_unit = float(program._liability_unit())

    def _liability_unit(self):
        self.ensure_one()
        return liability.unit_value(Decimal(str(self.liability_point_value or 0)),
                                    Decimal(str(self.liability_redemption_rate or 0)))

    @api.depends("liability_account_id", "liability_issue_account_id", "liability_release_account_id",
                 "liability_breakage_account_id", "liability_journal_id")
    def _compute_liability_posting_ready(self):
        for program in self:
            program.liability_posting_ready = all(program[f] for f in self._liability_required_fields())

    @api.model
    def _liability_required_fields(self):
        return ("liability_account_id", "liability_issue_account_id", "liability_release_account_id",
                "liability_breakage_account_id", "liability_journal_id")

    # ------------------------------------------------------------------
    # Posting run
    # ------------------------------------------------------------------
    def action_post_liability(self):
        """Button: post every unposted ledger entry of these programs now."""
        self.check_access("write")
        not_ready = self.filtered(lambda p: not p.liability_posting_ready)
        if not_ready:
            raise UserError(self.env._(
                "Set the liability accounts and journal of %s first.", ", ".join(not_ready.mapped("name"))))
        count = self._post_liability()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "success", "message": self.env._("%s ledger entries posted.", count)},
        }

    @api.model
    def _cron_post_liability(self):
        programs = self.with_context(active_test=False).sudo().search([])  # pylint: disable=no-search-all
        programs.filtered("liability_posting_ready")._post_liability(
            progress=self.env["ir.cron"]._commit_progress)

    def _post_liability(self, batch_size=5000, progress=None):
        """Turn unposted ledger entries into journal entries, one per program, day and kind.

        Each batch claims its entries in ``klodr.ledger.posting`` (unique per entry) in the same
        transaction as the journal entries; ``progress`` (the cron's ``_commit_progress``) commits
        after each batch, so an interrupted run resumes with what is left. A program whose
        advisory lock another run holds is skipped: that run posts it.
        :return: the number of ledger entries posted.
        """
        posted = 0
        for program in self.sudo():
            if not program.liability_posting_ready:
                continue
            while True:
                # taken again after each commit (which releases it)
                self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", _POSTING_LOCK_CLASS, program.id))
                if not self.env.cr.fetchone()[0]:
                    _logger.info("Loyalty liability of program %s is being posted by another run", program.id)
                    break
                count = program._post_liability_batch(batch_size)
                if count is None:  # another run posted them first
                    break
                posted += count
                if progress:
                    time_left = progress(count)
                    if time_left is not None and time_left is not False and time_left <= 0:
                        return posted
                if count < batch_size:
                    break
        return posted

    def _unposted_entries(self, limit):
        """The oldest unposted ledger entries of the program, as ``liability.Entry`` (program's days)."""
        self.ensure_one()
        tz = pytz.timezone(self._ledger_settings()[3])
        self.env.cr.execute(SQL(
            """SELECT e.id, e.date, e.entry_type, e.points FROM klodr_ledger_entry e
                WHERE e.program_id = %s
                  AND NOT EXISTS (SELECT 1 FROM klodr_ledger_posting p WHERE p.entry_id = e.id)
                ORDER BY e.id LIMIT %s""", self.id, limit))
        return [liability.Entry(entry_id, pytz.utc.localize(date).astimezone(tz).date(), entry_type, points)
                for entry_id, date, entry_type, points in self.env.cr.fetchall()]

    def _posted_points(self):
        self.ensure_one()
        self.env.cr.execute(SQL(
            "SELECT COALESCE(SUM(points), 0) FROM klodr_ledger_posting WHERE program_id = %s", self.id))
        return self.env.cr.fetchone()[0]

    def _claim_entries(self, ids, kind_of, points_of, day_of):
        """Mark ledger entries ``ids`` posted (unique per entry: a second claim fails)."""
        self.env.cr.execute(SQL(
            """INSERT INTO klodr_ledger_posting (entry_id, program_id, company_id, kind, points, day,
                                                 create_uid, write_uid, create_date, write_date)
               SELECT e, %s, %s, k, p, d, %s, %s, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                 FROM unnest(%s::int[], %s::varchar[], %s::int[], %s::date[]) AS t(e, k, p, d)""",
            self.id, self.company_id.id, self.env.uid, self.env.uid,
            ids, [kind_of[i] for i in ids], [points_of[i] for i in ids], [day_of[i] for i in ids]))

    def _post_liability_batch(self, batch_size):
        self.ensure_one()
        entries = self._unposted_entries(batch_size)
        if not entries:
            return 0
        groups = liability.group_entries(entries)
        rounding = Decimal(str(self.currency_id.rounding))
        amounts = liability.cumulative_amounts([g.points for g in groups], self._liability_unit(),
                                               self._posted_points(), rounding)
        # Claim the entries first: a run that started at the same time and saw them unposted fails here.
        day_of = {e.id: e.day for e in entries}
        kind_of = {entry_id: g.kind for g in groups for entry_id in g.entry_ids}
        points_of = {e.id: e.points for e in entries}
        ids = [e.id for e in entries]
        try:
            with self.env.cr.savepoint(flush=False):
                self._claim_entries(ids, kind_of, points_of, day_of)
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.SerializationFailure):
            # a run that started with this one committed them after our snapshot was taken
            _logger.info("Loyalty liability of program %s was posted by another run", self.id)
            return None
        accounts = {
            "liability": self.liability_account_id,
            "issue": self.liability_issue_account_id,
            "release": self.liability_release_account_id,
            "breakage": self.liability_breakage_account_id,
        }
        labels = dict(self.env["klodr.ledger.posting"]._fields["kind"]._description_selection(self.env))
        move_vals, booked = [], []
        for group, amount in zip(groups, amounts, strict=True):
            lines = liability.journal_lines(group.kind, amount)
            if not lines:
                continue
            label = self.env._("%(program)s: points %(kind)s of %(day)s (%(points)s points)",
                               program=self.name, kind=labels[group.kind].lower(), day=group.day,
                               points=group.points)
            move_vals.append({
                "move_type": "entry",
                "journal_id": self.liability_journal_id.id,
                "company_id": self.company_id.id,
                "date": group.day,
                "ref": label,
                "klodr_liability_program_id": self.id,
                "klodr_liability_kind": group.kind,
                "line_ids": [Command.create({"account_id": accounts[role].id, "name": label,
                                             "debit": float(debit), "credit": float(credit)})
                             for role, debit, credit in lines],
            })
            booked.append(group)
        if move_vals:
            moves = self.env["account.move"].sudo().with_company(self.company_id).create(move_vals)
            moves.action_post()
            for group, move in zip(booked, moves, strict=True):
                self.env.cr.execute(SQL(
                    "UPDATE klodr_ledger_posting SET move_id = %s WHERE entry_id = ANY(%s)",
                    move.id, list(group.entry_ids)))
        self.env["klodr.ledger.posting"].invalidate_model()
        return len(entries)

    # ------------------------------------------------------------------
    # Reconciliation figures
    # ------------------------------------------------------------------
    def _liability_day_end_utc(self, day):
        """The first instant (naive UTC) after the program's ``day``."""
        tz = pytz.timezone(self._ledger_settings()[3])
        local = tz.localize(datetime.combine(day + timedelta(days=1), time.min))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    def _liability_points_until(self, day):
        """Points outstanding in the ledger at the end of the program's ``day``, and those not yet posted."""
        self.ensure_one()
        self.env.cr.execute(SQL(
            """SELECT COALESCE(SUM(e.points), 0),
                      COALESCE(SUM(e.points) FILTER (WHERE p.id IS NULL), 0)
                 FROM klodr_ledger_entry e LEFT JOIN klodr_ledger_posting p ON p.entry_id = e.id
                WHERE e.program_id = %s AND e.date < %s""", self.id, self._liability_day_end_utc(day)))
        return self.env.cr.fetchone()

    def _liability_ageing(self):
        """Outstanding points today by month of expiry: ``[liability.Bucket]``."""
        self.ensure_one()
        self.env.cr.execute(SQL(
            """SELECT e.expiry_date,
                      CASE WHEN e.points > 0
                           THEN e.points - COALESCE((SELECT SUM(a.points) FROM klodr_ledger_allocation a
                                                     WHERE a.lot_entry_id = e.id), 0)
                           ELSE e.points + COALESCE((SELECT SUM(a.points) FROM klodr_ledger_allocation a
                                                     WHERE a.debit_entry_id = e.id), 0) END
                 FROM klodr_ledger_entry e WHERE e.program_id = %s""", self.id))
        return liability.age_by_expiry_month(self.env.cr.fetchall(), self._liability_unit(),
                                             Decimal(str(self.currency_id.rounding)))

    def _liability_schedule(self, date_from, date_to):
        """Points movement of the program's days ``date_from`` to ``date_to`` (liability.movement_schedule)."""
        self.ensure_one()
        start = self._liability_day_end_utc(date_from - timedelta(days=1))
        end = self._liability_day_end_utc(date_to)
        self.env.cr.execute(SQL(
            "SELECT COALESCE(SUM(points), 0) FROM klodr_ledger_entry WHERE program_id = %s AND date < %s",
            self.id, start))
        opening = self.env.cr.fetchone()[0]
        self.env.cr.execute(SQL(
            """SELECT entry_type, SUM(points) FROM klodr_ledger_entry
                WHERE program_id = %s AND date >= %s AND date < %s GROUP BY entry_type""", self.id, start, end))
        return liability.movement_schedule(opening, self.env.cr.fetchall())
