"""The signed-in customer's portal: GET /api/v1/portal (plan, subscription, usage against
limits, next invoice, payments, recommendations) and POST /api/v1/portal/stripe-session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import AnyHttpUrl, BaseModel, Field

from agents.portal.service import PortalView, portal_view
from agents.portal.stripe_session import open_billing_portal
from api.dependencies import RuntimeDep
from api.problems import problem_responses
from api.v1.customer_auth import CustomerDep
from api.v1.customer_invoices import EstimateOut, _estimate_out
from core.clock import utcnow
from db.models import Invoice, Payment

router = APIRouter(prefix="/api/v1", tags=["portal"])


class CustomerOut(BaseModel):
    id: int
    email: str | None
    name: str | None


class PlanOut(BaseModel):
    key: str
    name: str
    features: list[str] = Field(description="features the plan switches on")
    limits: dict[str, int | None] = Field(description="allowance per metric; null: unlimited")


class UsageOut(BaseModel):
    period: str
    meters: list[dict[str, Any]] = Field(description="used, limit, remaining, percent per meter")


class PaidInvoiceOut(BaseModel):
    id: str
    number: str | None
    status: str
    hosted_invoice_url: str | None


class PaymentOut(BaseModel):
    id: str | None = Field(description="the Stripe charge (or payment intent) id")
    amount: int
    amount_refunded: int
    currency: str
    status: str
    failure_code: str | None
    paid_at: datetime | None
    invoice: PaidInvoiceOut | None


class RecommendationOut(BaseModel):
    code: str = Field(examples=["downgrade_saves"])
    message: str
    numbers: dict[str, Any] = Field(description="the figures the recommendation rests on")


class PortalOut(BaseModel):
    customer: CustomerOut
    plan: PlanOut
    subscription: dict[str, Any] | None = Field(description="as GET /api/v1/subscription")
    usage: UsageOut
    estimate: EstimateOut | None = Field(description="as GET /api/v1/billing/estimate")
    payments: list[PaymentOut]
    recommendations: list[RecommendationOut]


class StripeSessionIn(BaseModel):
    return_url: AnyHttpUrl | None = Field(
        default=None, description="where Stripe sends you back; default: the configured page"
    )


class StripeSessionOut(BaseModel):
    id: str
    url: str = Field(description="Stripe's hosted billing portal; short-lived, open it at once")
    return_url: str


@router.get(
    "/portal",
    summary="Your plan, usage, next invoice, payments and advice",
    responses=problem_responses(401),
)
def get_portal(customer: CustomerDep, runtime: RuntimeDep) -> PortalOut:
    with runtime.database.transaction() as session:
        view = portal_view(session, runtime.settings, customer.customer_id, at=utcnow())
        return _portal_out(view)


@router.post(
    "/portal/stripe-session",
    summary="A link to Stripe's billing portal (cards, receipts)",
    responses=problem_responses(401, 409, 422, 502, 503),
)
def create_stripe_session(
    customer: CustomerDep, runtime: RuntimeDep, body: StripeSessionIn | None = None
) -> StripeSessionOut:
    """409 `no_stripe_customer` until you have bought something (Stripe knows you then)."""
    chosen = body.return_url if body and body.return_url else None
    return_url = str(chosen) if chosen else runtime.settings.portal_return_url
    with runtime.database.transaction() as session:
        created = open_billing_portal(
            session,
            runtime.tools["stripe"],
            customer.customer_id,
            return_url=return_url,
            at=utcnow(),
        )
    return StripeSessionOut(id=created["id"], url=created["url"], return_url=return_url)


def _portal_out(view: PortalView) -> PortalOut:
    product = view.plan
    return PortalOut(
        customer=CustomerOut(
            id=view.customer.id, email=view.customer.email, name=view.customer.name
        ),
        plan=PlanOut(
            key=view.plan_key,
            name=product.name if product else view.plan_key.capitalize(),
            features=[f for f, on in product.features.items() if on] if product else [],
            limits=dict(product.limits) if product else {},
        ),
        subscription=view.subscription,
        usage=UsageOut(period=view.period.label, meters=view.usage),
        estimate=_estimate_out(view.estimate) if view.estimate else None,
        payments=[_payment_out(payment, invoice) for payment, invoice in view.payments],
        recommendations=[
            RecommendationOut(code=r.code, message=r.message, numbers=r.numbers)
            for r in view.recommendations
        ],
    )


def _payment_out(payment: Payment, invoice: Invoice | None) -> PaymentOut:
    return PaymentOut(
        id=payment.stripe_charge_id or payment.stripe_payment_intent_id,
        amount=payment.amount,
        amount_refunded=payment.amount_refunded,
        currency=payment.currency,
        status=payment.status,
        failure_code=payment.failure_code,
        paid_at=payment.paid_at,
        invoice=PaidInvoiceOut(
            id=invoice.stripe_invoice_id,
            number=invoice.number,
            status=invoice.status,
            hosted_invoice_url=invoice.hosted_invoice_url,
        )
        if invoice
        else None,
    )
