from . import res_company
from . import res_config_settings
from . import sms_template
from . import sms_sms
from . import klodr_program
from . import klodr_member
from . import klodr_redemption
from . import klodr_sms_reminder
