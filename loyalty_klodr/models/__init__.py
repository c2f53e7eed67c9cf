from . import res_company
from . import (
    klodr_cached_config,
    klodr_program,
    klodr_store,
    klodr_member,
    klodr_ledger_entry,
    klodr_ledger_allocation,
    klodr_ledger_hold,
    klodr_ledger_lot,
    klodr_tier,
    klodr_earn_rule,
    klodr_campaign,
    klodr_transaction,
    klodr_ledger_award,
)
from . import klodr_reward
from . import klodr_code_batch, klodr_code, klodr_claim
from . import klodr_redemption
from . import klodr_api_key
from . import klodr_webhook
from . import klodr_member_consent, klodr_member_privacy
from . import klodr_transaction_line
from . import klodr_report_common, klodr_report_activity, klodr_report_expiry, klodr_report_tier
from . import klodr_report_category, klodr_report_member, klodr_report_dashboard
from . import klodr_store_checkin
from . import klodr_notify_queue
