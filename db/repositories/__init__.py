"""Repositories: the only modules that hold queries, one per domain."""
