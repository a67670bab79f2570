"""White-label branding: sent e-mails of an agency's clients carry it, others do not; the
REST API validates it, and tracking a referral is public while managing partners is not."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from agents.partners import agencies
from agents.partners.branding import BrandingInput
from agents.partners.white_label import set_branding
from api.app import create_app
from core.errors import InvalidInput
from core.settings import Settings
from db.models import Customer
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import make_operator
from tests.support.partners import running_worker
from tests.support.waiting import wait_until
from tools.email.outbox import FileOutboxMailer

ACME = BrandingInput(
    name="Acme Agency",
    logo_url="https://cdn.acme.example/logo.png",
    primary_color="#123abc",
    accent_color="#ff8800",
    custom_domain="billing.acme.example",
    custom_css="body{color:#222}</style><script>alert(1)</script>",
    email_from_name="Acme Billing",
    reply_to="help@acme.example",
    support_url="https://acme.example/support",
)


def add_customer(database: Database, email_address: str, name: str) -> int:
    with database.transaction() as s:
        row = Customer(stripe_customer_id=f"cus_{name[:4]}", email=email_address, name=name)
        s.add(row)
        s.flush()
        return row.id


def branded_agency(database: Database, settings: Settings, client_id: int) -> int:
    with database.transaction() as s:
        agency = agencies.create_agency(
            s, name="Acme", email="ops@acme.example", settings=settings, actor="alice"
        )
        agencies.link_client(s, agency.id, str(client_id), actor="alice")
        set_branding(s, agency.id, ACME, actor="alice")
        return agency.id


def send_welcome(database: Database, customer_id: int, name: str) -> None:
    with database.transaction() as s:
        submit(
            s,
            "notification.send",
            {
                "key": f"welcome:{customer_id}",
                "template": "welcome",
                "to": None,
                "customer_id": customer_id,
                "context": {"name": name},
            },
        )


def sent(outbox: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=default)  # type: ignore[misc]
        for p in sorted(outbox.glob("*.eml"))
    ]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def test_agency_clients_get_branded_emails_and_other_customers_do_not(
    settings: Settings,
    database: Database,
    transport: StreamTransport,
    redis_client: redis.Redis,
) -> None:
    client = add_customer(database, "client@example.com", "Client <b>Bold</b>")
    other = add_customer(database, "other@example.com", "Other")
    branded_agency(database, settings, client)
    outbox = settings.effective_outbox_dir
    tools: dict[str, Any] = {"stripe": None, "mailer": FileOutboxMailer(outbox)}
    with running_worker(settings, database, transport, redis_client, tools, ["notification"]):
        send_welcome(database, client, "Client <b>Bold</b>")
        send_welcome(database, other, "Other")
        wait_until(lambda: len(list(outbox.glob("*.eml"))) == 2, message="two e-mails sent")

    by_recipient = {m["To"]: m for m in sent(outbox)}
    branded, plain = by_recipient["client@example.com"], by_recipient["other@example.com"]
    assert branded["From"].addresses[0].display_name == "Acme Billing"
    assert branded["Reply-To"] == "help@acme.example"
    html = html_of(branded)
    for shown in ("Acme Agency", "https://cdn.acme.example/logo.png", "#123abc",
                  "https://acme.example/support", "body{color:#222}"):  # fmt: skip
        assert shown in html
    assert "<script>" not in html and "</style><" not in html  # the CSS could not break out
    assert "Client &lt;b&gt;Bold&lt;/b&gt;" in html  # the customer's own data stays escaped
    text = branded.get_body(("plain",))
    assert text is not None and "https://acme.example/support" in str(text.get_content())

    assert plain["Reply-To"] is None and "Acme" not in plain["From"]
    assert "Acme" not in html_of(plain) and "acme.example" not in html_of(plain)


@pytest.fixture
def api(settings: Settings, database: Database, redis_client: redis.Redis) -> TestClient:
    runtime = Runtime(settings, database, redis_client, StreamTransport(redis_client, "x"), {})
    return TestClient(create_app(runtime), base_url="https://testserver")


def test_rest_partner_management_needs_an_operator_and_tracking_is_public(
    api: TestClient, database: Database, settings: Settings
) -> None:
    body = {"name": "Affi", "email": "affi@example.com"}
    assert api.post("/api/v1/affiliates", json=body).status_code == 401
    viewer = {"Authorization": f"Bearer {make_operator(database, 'vera', 'viewer')}"}
    assert api.post("/api/v1/affiliates", json=body, headers=viewer).status_code == 403
    operator = {"Authorization": f"Bearer {make_operator(database, 'olga', 'operator')}"}
    created = api.post("/api/v1/affiliates", json=body, headers=operator)
    assert created.status_code == 201, created.text
    affiliate = created.json()
    assert affiliate["commission_rate_bps"] == 1_000

    click = api.post(
        "/api/v1/affiliates/track", json={"event": "click", "code": affiliate["referral_code"]}
    )
    assert click.status_code == 201
    signup = api.post(
        "/api/v1/affiliates/track",
        json={"event": "signup", "click_id": click.json()["click_id"], "customer": "cus_new"},
    )
    assert signup.status_code == 201, signup.text
    unknown = api.post("/api/v1/affiliates/track", json={"event": "click", "code": "ZZZZZZZZZZZZ"})
    assert unknown.status_code == 404

    stats = api.get(f"/api/v1/affiliates/{affiliate['id']}/stats", headers=viewer).json()
    assert (stats["clicks"], stats["signups"], stats["conversions"]) == (1, 1, 0)

    agency = api.post(
        "/api/v1/agencies", json={"name": "Acme", "email": "ops@acme.example"}, headers=operator
    ).json()
    bad = api.put(
        f"/api/v1/white-label/{agency['id']}",
        json={"name": "Acme", "primary_color": "blue"},
        headers=operator,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "bad_primary_color"
    good = api.put(
        f"/api/v1/white-label/{agency['id']}",
        json={"name": "Acme", "custom_css": "@import url(https://x.example/a.css);a{color:red}"},
        headers=operator,
    )
    assert good.status_code == 200 and good.json()["custom_css"] == ";a{color:red}"

    client_id = add_customer(database, "c@example.com", "Client")
    linked = api.post(
        f"/api/v1/agencies/{agency['id']}/clients",
        json={"customer": str(client_id)},
        headers=operator,
    )
    assert linked.status_code == 201
    mine = api.get(f"/api/v1/white-label?customer={client_id}", headers=operator).json()
    assert mine["branding"]["name"] == "Acme"
    with database.transaction() as s, pytest.raises(InvalidInput):
        set_branding(s, agency["id"], BrandingInput(name="Acme", support_url="http://x.example"),
                     actor="olga")  # fmt: skip
