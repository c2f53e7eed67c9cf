from . import test_install
from . import test_pos_sync
from . import test_frontend
from . import test_receipt_india
from . import test_frontend_india
