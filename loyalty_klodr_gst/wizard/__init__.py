from . import klodr_invoice_redeem
from . import klodr_liability_report
