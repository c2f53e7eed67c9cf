from . import api
from . import docs
from . import privacy
from . import portal
