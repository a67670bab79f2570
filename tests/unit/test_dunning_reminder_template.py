"""The dunning reminder e-mail: amount, hosted invoice link, and the last-reminder wording."""

from __future__ import annotations

import pytest

from agents.notification.payload import NotificationRequest
from agents.notification.rendering import render_email

URL = "https://invoice.stripe.com/i/in_ada_1"


@pytest.mark.parametrize("final", [False, True])
def test_reminder_shows_amount_and_link_and_says_when_it_is_the_last(final: bool) -> None:
    context = {
        "amount": 9900,
        "currency": "usd",
        "hosted_invoice_url": URL,
        "final": final,
        "days_overdue": 7,
    }
    mail = render_email("dunning_reminder", context, brand="Moneta")
    for part in (mail.text, mail.html):
        assert "USD 99.00" in part and URL in part and "7 day(s)" in part
        assert ("last reminder" in part) is final
    assert f'href="{URL}"' in mail.html
    assert mail.subject.startswith("Last reminder" if final else "Reminder")


def test_a_reminder_request_without_the_link_is_refused_in_the_caller() -> None:
    with pytest.raises(ValueError, match="hosted_invoice_url"):
        NotificationRequest(
            key="dunning:in_1:0",
            template="dunning_reminder",
            customer_id=1,
            context={"amount": 1, "currency": "usd", "final": False, "days_overdue": 0},
        )
