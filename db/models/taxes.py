"""Where a customer is taxed: country, state, postal code, VAT id, business or consumer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from db.base import Base, BigId, UTCDateTime


class CustomerTaxProfile(Base):
    """One per customer; set by an operator (`moneta taxes profile set`)."""

    __tablename__ = "customer_tax_profiles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2, upper case
    state: Mapped[str | None] = mapped_column(String(8))  # US state code
    postal_code: Mapped[str | None] = mapped_column(String(16))
    vat_id: Mapped[str | None] = mapped_column(String(32))  # normalized: no spaces, upper
    is_business: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
