"""Shared kernel: settings, clock, money and errors. Imports nothing else of Moneta."""
