"""One router per audience: carriers, holders, banks, auditors, governance, operations."""
