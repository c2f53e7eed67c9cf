from . import test_install
from . import test_pos_sync
from . import test_frontend
