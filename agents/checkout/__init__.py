"""Checkout: a customer buys a catalog price through a Stripe Checkout Session."""
