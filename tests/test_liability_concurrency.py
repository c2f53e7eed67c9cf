"""Two liability posting runs started at once (real parallel transactions): every ledger entry
is posted exactly once, and the liability booked is points × value to the paisa."""
import uuid

import pytest


@pytest.fixture
def liability_program(committed, program, new_member):
    """``program`` with liability accounts and journal, and 30 committed ledger entries."""
    member = new_member(0)

    def setup(env):
        company = env.ref("base.main_company")
        suffix = uuid.uuid4().hex[:6].upper()
        accounts = {
            role: env["account.account"].with_company(company).create({
                "name": f"Loyalty {role} {suffix}", "code": f"LP{number}{suffix}", "account_type": account_type})
            for number, (role, account_type) in enumerate((("liability", "liability_current"), ("issue", "expense"),
                                                           ("release", "expense"), ("breakage", "income_other")))
        }
        journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "general")],
                                                limit=1)
        env["klodr.program"].browse(program).write({
            "liability_point_value": 1.0, "liability_redemption_rate": 80.0, "liability_journal_id": journal.id,
            **{f"liability_{role}_account_id" if role != "liability" else "liability_account_id": account.id
               for role, account in accounts.items()}})
        member_record = env["klodr.member"].browse(member)
        for number in range(30):
            env["klodr.ledger.entry"]._post(member_record, "earn", 10 + number, source_ref=f"S{number}")
        return accounts["liability"].id
    return program, committed(setup)


def test_two_runs_at_once_post_each_entry_once(committed, liability_program, verify):
    program, liability_account = liability_program

    def run(env):
        return env["klodr.program"].browse(program)._post_liability()

    outcomes = committed.in_threads([run, run])
    assert [error for _result, error in outcomes] == [None, None], outcomes
    assert sorted(result for result, _error in outcomes) == [0, 30]

    def booked(env):
        postings = env["klodr.ledger.posting"].search([("program_id", "=", program)])
        lines = env["account.move.line"].search([("account_id", "=", liability_account),
                                                 ("parent_state", "=", "posted")])
        return (len(postings), len(set(postings.entry_id.ids)), sum(postings.mapped("points")),
                round(sum(lines.mapped("credit")) - sum(lines.mapped("debit")), 2))

    points = sum(10 + number for number in range(30))
    assert committed(booked) == (30, 30, points, round(points * 0.8, 2))
    assert committed(run) == 0  # a later run has nothing left
    verify()
