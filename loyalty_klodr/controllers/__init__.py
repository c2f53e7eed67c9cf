from . import api
from . import docs
