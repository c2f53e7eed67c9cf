from . import klodr_store
from . import klodr_member
from . import klodr_redemption
from . import pos_config
from . import pos_order
from . import res_config_settings
