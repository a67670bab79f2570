"""The double-entry journal every money event posts to. Public API for other areas:

- `agents.ledger_journal.accounts`: `Account` (the chart of accounts), `payable_account(kind)`.
- `agents.ledger_journal.rules`: pure posting rules returning a balanced `EntryDraft`
  (`commission_earned`, `commission_clawed_back`, `payout_paid`, `credit_granted`, ...).
- `agents.ledger_journal.writer`: `post(session, draft)` and `reverse(session, entry_id, ...)`,
  the only code that writes journal rows, in the caller's transaction.
- `agents.ledger_journal.balances`: balances derived from postings (`payable_balance`, ...).
"""
