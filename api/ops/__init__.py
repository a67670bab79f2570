"""The operator REST API (/ops): decisions on money actions, behind a bearer token."""
