"""Seed a paid customer for refund tests: our rows, and the charge on the Stripe side."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Customer, Payment
from db.session import Database
from tools.stripe.sandbox import SandboxGateway


@dataclass(frozen=True)
class PaidCustomer:
    customer_id: int
    payment_id: int
    charge: str
    payment_intent: str
    amount: int


def seed_paid_customer(
    database: Database,
    *,
    amount: int = 5_000,
    suffix: str = "1",
    sandbox: SandboxGateway | None = None,
    status: str = "succeeded",
) -> PaidCustomer:
    """A customer with one succeeded payment of `amount` cents (and its charge in `sandbox`)."""
    charge, intent = f"ch_test_{suffix}", f"pi_test_{suffix}"
    with database.transaction() as s:
        customer = Customer(stripe_customer_id=f"cus_test_{suffix}", email=f"c{suffix}@example.com")
        s.add(customer)
        s.flush()
        payment = Payment(
            stripe_charge_id=charge,
            stripe_payment_intent_id=intent,
            customer_id=customer.id,
            amount=amount,
            amount_refunded=0,
            currency="usd",
            status=status,
        )
        s.add(payment)
        s.flush()
        ids = customer.id, payment.id
    if sandbox is not None:
        sandbox.put(
            "charge",
            {
                "id": charge,
                "object": "charge",
                "amount": amount,
                "amount_refunded": 0,
                "currency": "usd",
                "customer": f"cus_test_{suffix}",
                "payment_intent": intent,
                "paid": True,
                "refunded": False,
                "status": status,
            },
        )
    return PaidCustomer(ids[0], ids[1], charge, intent, amount)
