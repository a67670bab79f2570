"""Customer API scenes: sign up and sign in through the real endpoints."""

from __future__ import annotations

from fastapi.testclient import TestClient

DEFAULT_PASSWORD = "correct horse battery"


def register_and_login(
    client: TestClient, email: str, password: str = DEFAULT_PASSWORD, name: str | None = None
) -> dict[str, str]:
    """Register `email` (unless it exists already) and return its Authorization header."""
    created = client.post(
        "/api/v1/register", json={"email": email, "password": password, "name": name}
    )
    assert created.status_code in (201, 409), created.text
    token = client.post("/api/v1/token", data={"username": email, "password": password})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}
