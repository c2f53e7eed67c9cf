from . import klodr_statement_report
