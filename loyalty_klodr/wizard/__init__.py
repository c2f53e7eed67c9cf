from . import klodr_adjust_wizard
from . import klodr_rule_simulator
from . import klodr_reward_code_import
from . import klodr_setup_wizard
from . import klodr_api_key_wizard
from . import klodr_statement_wizard
