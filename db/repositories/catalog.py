"""Queries over the synced catalog: `products` and `prices` rows and their Stripe ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Price, Product


def synced_products(session: Session) -> list[Product]:
    """Product rows that have a Stripe product."""
    return list(session.scalars(select(Product).where(Product.stripe_product_id.is_not(None))))


def synced_prices(session: Session) -> list[tuple[Price, str]]:
    """Price rows synced from a catalog key, with their product's key, oldest first."""
    rows = session.execute(
        select(Price, Product.key)
        .join(Product, Product.id == Price.product_id)
        .where(Price.key.is_not(None), Price.stripe_price_id.is_not(None))
        .order_by(Price.id)
    )
    return [(price, product_key) for price, product_key in rows]


def save_product(
    session: Session,
    key: str,
    *,
    name: str,
    stripe_product_id: str,
    active: bool,
    fingerprint: str | None,
    synced_at: datetime,
) -> int:
    """Insert or update the product row of `key`; returns its id."""
    row = session.scalars(select(Product).where(Product.key == key)).one_or_none()
    if row is None:
        row = Product(key=key)
        session.add(row)
    row.name = name
    row.stripe_product_id = stripe_product_id
    row.active = active
    row.fingerprint = fingerprint
    row.synced_at = synced_at
    session.flush()
    return row.id


def product_row_id(session: Session, key: str) -> int | None:
    return session.scalars(select(Product.id).where(Product.key == key)).one_or_none()


def stripe_product_id_of(session: Session, key: str) -> str | None:
    return session.scalars(
        select(Product.stripe_product_id).where(Product.key == key)
    ).one_or_none()


def set_price_active(session: Session, row_id: int, *, active: bool, synced_at: datetime) -> None:
    session.execute(
        update(Price).where(Price.id == row_id).values(active=active, synced_at=synced_at)
    )


def active_stripe_price_id(session: Session, price_key: str) -> str | None:
    """The Stripe id new customers buy `price_key` at: its newest active synced price."""
    return session.scalars(
        select(Price.stripe_price_id)
        .where(Price.key == price_key, Price.active.is_(True), Price.stripe_price_id.is_not(None))
        .order_by(Price.id.desc())
        .limit(1)
    ).first()


def price_key_of(session: Session, stripe_price_id: str) -> str | None:
    """The catalog key a Stripe price was synced from, archived or not."""
    return session.scalars(
        select(Price.key).where(Price.stripe_price_id == stripe_price_id)
    ).one_or_none()


def add_price(session: Session, product_id: int, **values: object) -> int:
    """Record a Stripe price created for a catalog price; returns the row id."""
    row = Price(product_id=product_id, **values)
    session.add(row)
    session.flush()
    return row.id
