from . import test_ledger, test_expiry, test_security, test_verify
