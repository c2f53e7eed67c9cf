from . import klodr_adjust_wizard
