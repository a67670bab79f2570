"""Moneta customers on Stripe's side."""
