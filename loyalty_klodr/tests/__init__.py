from . import test_ledger, test_expiry, test_security, test_verify, test_earn, test_redemption
from . import test_reward
from . import test_codes_claims
from . import test_webhooks
from . import test_openapi
from . import test_i18n_hindi
from . import test_statement, test_privacy, test_reports, test_portal, test_backend_tour
