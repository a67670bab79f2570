"""Operator accounts and access: roles, credentials, tokens, console logins."""
