"""Metering: usage events, limits and alerts, overage billing, API keys and rate limits."""
