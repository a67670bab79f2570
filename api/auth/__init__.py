"""Who is calling: operator bearer tokens for /ops, session cookies and CSRF for /console."""
