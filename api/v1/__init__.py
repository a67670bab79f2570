"""The customer-facing API (/api/v1): authenticated with per-customer API keys."""
