"""Pricing engine: pure functions over integer minor units and `Decimal`; no session, no I/O.

Unit prices are `Decimal` minor units (Stripe's `unit_amount_decimal`, the catalog's convention):
$0.05 is `Decimal("5")`, ¥6.5 is `Decimal("6.5")`. Every amount is rounded once, half-even, to a
whole minor unit, so zero-decimal (JPY) and three-decimal (KWD) currencies need no special case.
"""
