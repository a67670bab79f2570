"""Monetized processes (seed 000): registration, lifecycle, usage that accrues owner revenue."""
