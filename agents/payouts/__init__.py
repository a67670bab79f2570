"""Payouts of payable balances to payees (owners, affiliates, agencies), behind the approval gate.

Public API for other areas (affiliates/agencies pay commissions through this):
- `agents.payouts.payees.ensure_payee(session, kind=, ref=, name=, email=)` -> Payee
  (its `.party` names the ledger sub-account to post commissions to).
- `agents.payouts.payees.update_payee(session, party, status=, stripe_account_id=, ...)`.
- `agents.payouts.service.create_payout(session, party=, currency=, requested_by=, submit=)`
  -> Payout (pending approval; on approval the payout graph transfers and posts the journal).
"""
