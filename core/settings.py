"""The one settings object. Env prefix MONETA_, plus Stripe's and OpenAI's own names."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_WEBHOOK_SECRET = "whsec_moneta_offline_sandbox"


class Settings(BaseSettings):
    """Everything configurable. With nothing set, Moneta runs on embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="MONETA_", extra="ignore")

    data_dir: Path = Path(".moneta")
    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "moneta"

    stripe_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("STRIPE_API_KEY", "MONETA_STRIPE_API_KEY")
    )
    stripe_webhook_secret: str | None = Field(
        default=None,
        validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET", "MONETA_STRIPE_WEBHOOK_SECRET"),
    )
    stripe_api_base: str | None = None
    stripe_max_retries: int = 3
    stripe_timeout_seconds: float = 20.0
    webhook_tolerance_seconds: int = 300
    webhook_max_bytes: int = 1024 * 1024

    smtp_url: str | None = None
    email_from: str = "Moneta <billing@moneta.local>"
    outbox_dir: Path | None = None
    operator_emails: str = "operators@moneta.local"

    task_max_attempts: int = 8
    task_lease_seconds: int = 60
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 600.0
    relay_interval_seconds: float = 2.0
    relay_republish_after_seconds: float = 30.0

    approval_two_approvers_above: int = 50_000
    approval_ttl_hours: int = 72

    # Console logins: failures allowed per name (and 4x per address) within the window.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    console_session_hours: int = 12
    # Customer API tokens (JWT HS256). No secret set: one is generated once and kept in
    # <data_dir>/customer-jwt.key, so tokens survive restarts. Failed logins count per e-mail
    # with the console's limits (login_max_failures within login_window_minutes).
    customer_jwt_secret: str | None = Field(default=None, min_length=32)
    customer_token_minutes: int = 60
    # Where Stripe's hosted billing portal sends the customer back (POST /api/v1/portal/
    # stripe-session may name another).
    portal_return_url: str = "http://localhost:8000/portal"

    # Partners: commission rates in basis points (1,000 = 10%); attribution window in days.
    affiliate_commission_bps: int = 1_000
    affiliate_attribution_days: int = 30
    agency_commission_bps: int = 1_000
    # Public POST /api/v1/affiliates/track, per client address (GCRA: sustained rate, burst).
    affiliate_track_per_second: float = 2.0
    affiliate_track_burst: int = 30
    branding_cache_seconds: float = 30.0  # customer -> agency branding, for API responses

    # Processes and payouts: platform fee on process revenue (basis points, per-owner override
    # on the payee), smallest payout, days revenue stays reserved for refunds, payout fee.
    platform_fee_bps: int = 1_000
    payout_minimum: int = 1_000
    payout_reserve_days: int = 14
    payout_fee_bps: int = 0

    grace_period_days: int = 7
    # Dunning after a failed invoice payment: `day:action` steps counted from the first
    # failure (remind, final_notice, restrict, cancel); see agents/dunning/schedule.py.
    dunning_schedule: str = "0:remind,3:remind,5:remind,7:final_notice,10:restrict,14:cancel"

    # Metering: meters, overage prices and per-plan rate limits (YAML; None: the shipped
    # agents/metering/meters.yaml). API calls are counted in memory and written in bulk every
    # flush interval or after that many calls; API keys are re-checked after the cache time.
    meters_file: Path | None = None
    usage_flush_interval_ms: int = 500
    usage_flush_max_calls: int = 5_000
    api_key_cache_seconds: float = 5.0

    # AI-token wallet: price in minor units per 1,000 tokens ($0.10 by default), features that
    # may consume tokens (comma-separated), days a purchased grant lasts (None: no expiry).
    wallet_price_per_1k_tokens: int = 10
    wallet_currency: str = "usd"
    wallet_features: str = "content_generation,ad_generation,analytics,transcript_analysis"
    wallet_purchase_expiry_days: int | None = None
    wallet_checkout_success_url: str = "http://localhost:8000/wallet?paid=1"
    wallet_checkout_cancel_url: str = "http://localhost:8000/wallet?canceled=1"
    # Catalog of products and prices (YAML); None: the shipped agents/catalog/catalog.yaml.
    # Set by MONETA_CATALOG; the field name is listed so Settings(catalog_file=...) works too.
    catalog_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("MONETA_CATALOG", "catalog_file")
    )
    # Coupons and promotion codes (YAML; None: the shipped agents/discounts/discounts.yaml)
    # and taxes (YAML; None: the shipped agents/taxes/taxes.yaml), set by MONETA_DISCOUNTS
    # and MONETA_TAXES.
    discounts_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("MONETA_DISCOUNTS", "discounts_file")
    )
    tax_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("MONETA_TAXES", "tax_file")
    )
    # Where Stripe Checkout sends a customer back after a subscription checkout.
    checkout_success_url: str = "http://localhost:8000/billing?checkout=success"
    checkout_cancel_url: str = "http://localhost:8000/billing?checkout=canceled"
    # Access policy file (YAML); None: the shipped default (agents/access/default_policy.yaml).
    policy: Path | None = None

    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "MONETA_OPENAI_API_KEY")
    )
    llm_model: str = "gpt-4o-mini"
    # Any OpenAI-compatible server (vLLM, Ollama, a gateway); unset means api.openai.com.
    llm_base_url: str | None = None
    llm_timeout_seconds: float = 20.0
    llm_max_retries: int = 2
    # Prices of the configured model, micro-dollars per 1,000 tokens (cost of each call).
    llm_input_price_per_1k_micros: int = 150
    llm_output_price_per_1k_micros: int = 600
    # Model-written customer e-mails (validated; template otherwise). None: on with a model.
    llm_wording_enabled: bool | None = None

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # FastAPI's native OpenTelemetry (traces, metrics, logs to the globally configured
    # providers). Off by default: its per-request provider lookup was ~5% of a webhook's CPU.
    api_otel: bool = False
    # The API's address as browsers reach it (the offline sandbox's checkout page links to
    # it); None: http://api_host:api_port.
    public_url: str | None = None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'moneta.db').resolve()}"

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def effective_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def sandbox_mode(self) -> bool:
        """True when no Stripe key is set: the offline sandbox stands in for Stripe."""
        return not self.stripe_api_key

    @property
    def webhook_secrets(self) -> list[str]:
        """Every accepted signing secret (comma-separated, for rotation)."""
        if self.stripe_webhook_secret:
            return [s.strip() for s in self.stripe_webhook_secret.split(",") if s.strip()]
        return [SANDBOX_WEBHOOK_SECRET] if self.sandbox_mode else []

    @property
    def llm_configured(self) -> bool:
        """True when a model key is set; without one every LLM feature uses its fallback."""
        return bool(self.openai_api_key)

    @property
    def wording_by_model(self) -> bool:
        return self.llm_configured and self.llm_wording_enabled is not False

    @property
    def wallet_feature_list(self) -> list[str]:
        return [f.strip() for f in self.wallet_features.split(",") if f.strip()]

    @property
    def operator_email_list(self) -> list[str]:
        return [e.strip() for e in self.operator_emails.split(",") if e.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (after the environment changed, e.g. in tests)."""
    get_settings.cache_clear()
