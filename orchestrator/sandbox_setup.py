"""Put the catalog, coupons and tax rates on the offline sandbox when `moneta up` starts.

On real Stripe the operator runs `moneta catalog sync` (and discounts, taxes) when they mean
to; offline there is nothing to protect, and checkout needs synced prices, so `up` does it.
Every sync is idempotent: a second start writes nothing.
"""

from __future__ import annotations

from collections import Counter

from agents.catalog.loader import load_catalog
from agents.catalog.sync import sync_catalog
from agents.discounts.loader import load_discounts
from agents.discounts.sync import sync_discounts
from agents.taxes.loader import load_taxes
from agents.taxes.sync import sync_tax_rates
from core.errors import InvalidInput
from core.settings import Settings
from db.session import Database
from orchestrator.wiring import build_stripe
from tools.stripe.gateway import StripeGatewayError, StripeRequestError

REAL_STRIPE_HINT = (
    "  billing  : Stripe is configured: run `moneta catalog sync` (then `moneta discounts "
    "sync`, `moneta taxes sync`) to put the catalog on it"
)


def sync_offline_stripe(settings: Settings) -> str:
    """Sync catalog, then discounts (coupons name synced products), then tax rates; one line."""
    try:
        catalog = load_catalog(settings.catalog_file)
        discounts = load_discounts(settings.discounts_file, settings.catalog_file)
        taxes = load_taxes(settings.tax_file, settings.catalog_file)
    except InvalidInput as error:
        return f"  billing  : NOT synced, a config file is invalid: {error.message}"
    database = Database(settings.effective_database_url)
    gateway = build_stripe(settings)
    try:
        steps = Counter(step.outcome for step in sync_catalog(database, gateway, catalog).steps)
        coupons = sync_discounts(database, gateway, discounts)
        rates = sync_tax_rates(database, gateway, taxes)
    except (StripeGatewayError, StripeRequestError) as error:
        return f"  billing  : sandbox sync stopped ({error}); it resumes on the next start"
    finally:
        database.dispose()
    written = sum(n for outcome, n in steps.items() if outcome not in ("unchanged", "skipped"))
    failed = f", {steps['failed']} FAILED" if steps["failed"] else ""
    return (
        f"  billing  : sandbox synced: catalog {steps.total()} objects ({written} written"
        f"{failed}), "
        f"discounts {len(coupons.items)} ({len(coupons.created())} created), "
        f"tax rates {len(rates.items)} ({len(rates.created())} created)"
    )
