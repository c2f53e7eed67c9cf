from . import res_company
from . import klodr_program
from . import klodr_ledger_posting
from . import klodr_redemption
from . import account_move
