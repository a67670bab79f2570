"""White-label on the customer-facing API: answers to an agency client's API key carry the
agency's branding (a `branding` member and `X-Moneta-Brand`); others' answers do not; and
the public referral tracking endpoint is rate-limited per client address."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.settings import Settings
from db.session import Database
from tests.integration.test_white_label import ACME, branded_agency
from tests.support.metering import AppFactory, make_api_key, make_customer
from tests.support.operators import make_operator


def client(app_factory: AppFactory, **changes: object) -> TestClient:
    return TestClient(app_factory(**changes), base_url="https://testserver")


def test_an_agency_clients_api_answers_carry_its_branding_and_others_do_not(
    metering_app: AppFactory, database: Database, settings: Settings
) -> None:
    branded_id, plain_id = make_customer(database), make_customer(database)
    branded_agency(database, settings, branded_id)
    api = client(metering_app)
    branded = {"X-API-Key": make_api_key(database, branded_id)}
    plain = {"X-API-Key": make_api_key(database, plain_id)}

    wallet = api.get("/api/v1/wallet", headers=branded)
    assert wallet.status_code == 200, wallet.text
    body = wallet.json()
    assert body["customer_id"] == branded_id  # the answer itself is intact
    assert body["branding"]["name"] == ACME.name
    assert body["branding"]["logo_url"] == ACME.logo_url
    assert (body["branding"]["primary_color"], body["branding"]["accent_color"]) == (
        "#123abc",
        "#ff8800",
    )
    assert body["branding"]["support_url"] == ACME.support_url
    assert "<script>" not in (body["branding"]["custom_css"] or "")  # sanitised on write
    assert "agency_id" not in body["branding"]
    assert wallet.headers["X-Moneta-Brand"] == "Acme Agency"
    assert int(wallet.headers["content-length"]) == len(wallet.content)

    own = api.get("/api/v1/white-label", headers=branded).json()
    assert own["branding"]["name"] == ACME.name  # the route's own member is left alone

    other = api.get("/api/v1/wallet", headers=plain)
    assert other.status_code == 200 and "branding" not in other.json()
    assert "X-Moneta-Brand" not in other.headers


def test_operator_answers_about_an_agency_client_are_not_branded(
    metering_app: AppFactory, database: Database, settings: Settings
) -> None:
    branded_id = make_customer(database)
    branded_agency(database, settings, branded_id)
    operator = {"Authorization": f"Bearer {make_operator(database, 'olga', 'operator')}"}
    answer = client(metering_app).get(f"/api/v1/wallet?customer={branded_id}", headers=operator)
    assert answer.status_code == 200, answer.text
    assert "branding" not in answer.json() and "X-Moneta-Brand" not in answer.headers


def test_referral_tracking_is_rate_limited_per_client_address(
    metering_app: AppFactory,
) -> None:
    api = client(metering_app, affiliate_track_per_second=0.01, affiliate_track_burst=3)
    click = {"event": "click", "code": "ZZZZZZZZZZZZ"}  # unknown: 404, but still counted
    answers = [api.post("/api/v1/affiliates/track", json=click) for _ in range(4)]
    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Limit"] == "3"

    elsewhere = {"X-Forwarded-For": "203.0.113.9"}  # not trusted: the address is the peer's
    assert api.post("/api/v1/affiliates/track", json=click, headers=elsewhere).status_code == 429
