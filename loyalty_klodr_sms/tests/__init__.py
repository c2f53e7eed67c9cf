from . import test_install
from . import test_providers
from . import test_dlt_gateway
from . import test_notifications
from . import test_otp
from . import test_expiry_reminder
from . import test_i18n
