from . import test_install, test_liability, test_invoice
