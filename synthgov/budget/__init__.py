"""Privacy budgets: accounting of epsilon, delta and rho (OpenDP), the ledgers' hash chain,
and appending a debit that may not overdraw.
"""
