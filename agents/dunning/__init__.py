"""Dunning: win back failed invoice payments with reminders, then restrict, then cancel."""
