"""`moneta up` on the offline sandbox puts the catalog, coupons and tax rates on it, once."""

from __future__ import annotations

from sqlalchemy import select

from agents.catalog.stripe_ids import stripe_price_id
from core.settings import Settings
from db.models import Price
from db.session import Database
from orchestrator.sandbox_setup import sync_offline_stripe


def test_the_first_start_syncs_everything_and_the_second_writes_nothing(
    settings: Settings, database: Database
) -> None:
    first = sync_offline_stripe(settings)
    assert "sandbox synced: catalog" in first and "(0 written)" not in first, first
    with database.transaction() as s:
        assert stripe_price_id(s, "pro_monthly").startswith("price_")
        prices = len(s.scalars(select(Price)).all())
    second = sync_offline_stripe(settings)
    assert "(0 written)" in second and second.count("(0 created)") == 2, second
    with database.transaction() as s:
        assert len(s.scalars(select(Price)).all()) == prices


def test_an_invalid_config_file_is_reported_and_nothing_is_synced(
    settings: Settings, database: Database
) -> None:
    broken = settings.data_dir / "catalog.yaml"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("products: [{key: pro}]\n")
    line = sync_offline_stripe(settings.model_copy(update={"catalog_file": broken}))
    assert "NOT synced" in line, line
    with database.transaction() as s:
        assert s.scalars(select(Price)).all() == []
