"""The partners agent: affiliates and agencies earn commissions on payments; agencies brand.

Billing hands paid invoices, refunds and disputes over as tasks (`partners.*`); this agent
turns them into commission rows and journal entries in the same unit of work. Commission
payouts are payouts of the partner's payable account, behind the approval gate.
"""
