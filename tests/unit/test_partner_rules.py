"""Partner rules as pure functions: commission arithmetic, review flags, codes, branding, CSS."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.partners.branding import BrandingInput, validated_branding
from agents.partners.codes import ALPHABET, CODE_LENGTH, new_referral_code, normalize_code
from agents.partners.commission import (
    add_months,
    clawback_due,
    commission_amount,
    commission_basis,
    earns_recurring,
)
from agents.partners.css import sanitize_css
from agents.partners.fraud import (
    SELF_REFERRAL_ACCOUNT,
    SELF_REFERRAL_EMAIL,
    SHARED_PAYMENT_METHOD,
    ReferralFacts,
    review_flags,
)
from core.errors import InvalidInput
from tools.stripe.amounts import invoice_tax


def test_commission_is_a_floored_share_of_the_amount_paid_net_of_tax() -> None:
    assert commission_basis(11_000, 1_000) == 10_000
    assert commission_amount(10_000, 1_000) == 1_000
    assert commission_amount(999, 1_000) == 99
    assert commission_basis(0, 0) == 0 and commission_basis(500, 900) == 0
    with pytest.raises(ValueError):
        commission_amount(100, 10_001)


@given(
    commission=st.integers(0, 10**7),
    paid=st.integers(1, 10**8),
    refunds=st.lists(st.integers(0, 10**8), max_size=8),
)
def test_clawbacks_of_cumulative_refunds_never_exceed_the_commission(
    commission: int, paid: int, refunds: list[int]
) -> None:
    clawed, taken_back = 0, 0
    for amount in refunds:
        taken_back += amount
        due = clawback_due(commission, paid, taken_back, clawed)
        assert due >= 0
        clawed += due
        assert clawed <= commission
    if taken_back >= paid:
        assert clawed == commission


def test_a_dispute_or_full_refund_claws_back_everything_left() -> None:
    assert clawback_due(1_000, 11_000, 11_000, 0) == 1_000
    assert clawback_due(1_000, 11_000, 11_000, 400) == 600
    assert clawback_due(1_000, 11_000, 5_500, 500) == 0  # replayed refund: nothing more


def test_recurring_commission_ends_after_n_calendar_months() -> None:
    converted = datetime(2026, 1, 31, tzinfo=UTC)
    assert add_months(converted, 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert earns_recurring(converted, datetime(2026, 4, 1, tzinfo=UTC), 3)
    assert not earns_recurring(converted, datetime(2026, 4, 30, tzinfo=UTC), 3)
    assert not earns_recurring(converted, datetime(2026, 2, 1, tzinfo=UTC), 0)


def test_referral_codes_are_random_and_unambiguous() -> None:
    codes = {new_referral_code() for _ in range(2_000)}
    assert len(codes) == 2_000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    code = codes.pop()
    assert normalize_code(f"  {code.lower()} ") == code
    for bad in ("", "short", code + "X", code[:-1] + "0", "'; drop table"):
        with pytest.raises(InvalidInput):
            normalize_code(bad)


def test_review_flags_self_referral_and_a_shared_payment_method() -> None:
    clean = ReferralFacts("aff@example.com", 1, "buyer@example.com", 2, "fp_b", {"fp_a"})
    assert review_flags(clean) == []
    same_mail = ReferralFacts("Ann+aff@Mail.com", None, "ann@mail.com", 2)
    assert review_flags(same_mail) == [SELF_REFERRAL_EMAIL]
    same_account = ReferralFacts("aff@example.com", 7, None, 7)
    assert review_flags(same_account) == [SELF_REFERRAL_ACCOUNT]
    same_card = ReferralFacts("aff@example.com", None, "b@example.com", 3, "fp_a", {"fp_a"})
    assert review_flags(same_card) == [SHARED_PAYMENT_METHOD]


def test_invoice_tax_reads_both_layouts() -> None:
    assert invoice_tax({"total": 11_000, "total_excluding_tax": 10_000}) == 1_000
    assert invoice_tax({"total_taxes": [{"amount": 300}, {"amount": 200}]}) == 500
    assert invoice_tax({"tax": 70}) == 70
    assert invoice_tax({}) == 0


# --- white-label validation ---------------------------------------------------------------


def test_branding_is_validated_and_normalised() -> None:
    values = validated_branding(
        BrandingInput(
            name="Acme Agency",
            logo_url="https://cdn.acme.example/logo.png",
            primary_color="#1A2B3C",
            accent_color="#abc",
            custom_domain="Billing.Acme.Example.",
            email_from_name="Acme Billing",
            reply_to="help@acme.example",
            support_url="https://acme.example/help",
        )
    )
    assert values["primary_color"] == "#1a2b3c" and values["accent_color"] == "#aabbcc"
    assert values["custom_domain"] == "billing.acme.example"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("primary_color", "red"),
        ("primary_color", "#12345"),
        ("accent_color", "#12345g"),
        ("logo_url", "http://acme.example/logo.png"),
        ("logo_url", "javascript:alert(1)"),
        ("logo_url", "https://user:pw@acme.example/x"),
        ("support_url", 'https://acme.example/"onmouseover="x'),
        ("custom_domain", "localhost"),
        ("custom_domain", "10.0.0.1"),
        ("custom_domain", "-bad.example"),
        ("custom_domain", "acme.example/path"),
        ("custom_domain", "*.acme.example"),
        ("reply_to", "not-an-address"),
        ("reply_to", "a@b"),
        ("email_from_name", "Acme\r\nBcc: victim@example.com"),
        ("name", "<script>"),
    ],
)
def test_bad_branding_is_refused_naming_the_field(field: str, value: str) -> None:
    raw = {"name": "Acme", field: value}
    with pytest.raises(InvalidInput) as refused:
        validated_branding(BrandingInput(**raw))
    assert refused.value.code == f"bad_{field}"


# --- CSS sanitiser ------------------------------------------------------------------------

DANGEROUS = re.compile(r"@import|expression\(|javascript:|vbscript:|-moz-binding|behaviou?r:")


def assert_safe(css: str) -> None:
    squeezed = re.sub(r"\s+", "", css).lower()
    assert "<" not in css and "\\" not in css and "/*" not in css
    assert not DANGEROUS.search(squeezed), css
    for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", css, re.IGNORECASE):
        assert target.strip().lower().startswith("https://"), css


ATTACKS = [
    "body{background:url(javascript:alert(1))}",
    "body{background:url( 'JaVaScRiPt:alert(1)' )}",
    "@import url(https://evil.example/x.css);",
    '@import "https://evil.example/x.css";',
    "@IMPORT 'x.css';",
    "div{width:expression(alert(1))}",
    "div{width:expr/**/ession(alert(1))}",
    "div{width:expr\\ession(alert(1))}",
    "div{background:url(data:text/html;base64,PHNjcmlwdD4=)}",
    "</style><script>alert(1)</script>",
    "</STYLE ><img src=x onerror=alert(1)>",
    "a{color:red}/*</style><script>x</script>*/",
    "div{-moz-binding:url(https://evil.example/xbl)}",
    "div{behavior:url(x.htc)}",
    "body{background:url(\\6a avascript:alert(1))}",
    "div{background:url(//evil.example/x.png)}",
    "/*/**/*/div{width:expression(1)}",
    "div{color:red;background:url(http://plain.example/x.png)}",
]


@pytest.mark.parametrize("css", ATTACKS)
def test_sanitiser_defuses_known_attacks(css: str) -> None:
    assert_safe(sanitize_css(css))


def test_sanitiser_keeps_ordinary_css() -> None:
    css = (
        ".brand-card{border-top:4px solid #1a2b3c}"
        ".data:hover > a{color:#fff;font:12px/1.5 'Helvetica Neue',sans-serif}"
        "@media (max-width:600px){.brand-name{font-size:16px}}"
        "body{background:url('https://cdn.acme.example/bg.png') no-repeat}"
    )
    assert sanitize_css(css) == css
    assert sanitize_css("a{color:red;background:url(http://x.example/a.png);margin:0}") == (
        "a{color:red;;margin:0}"
    )


CSS_PIECES = st.sampled_from(
    [
        "a", "{", "}", ";", ":", "(", ")", "'", '"', "/", "*", "\\", "<", ">", "@", " ", "\n",
        "url(", "https://x.example/", "javascript:", "java", "script:", "expression(", "expr",
        "ession(", "@import", "@im", "port", "/*", "*/", "</style>", "data:", "color:red",
        "-moz-binding", "behavior:", "\x00", "\t",
    ]
)  # fmt: skip


@given(st.lists(CSS_PIECES, max_size=40).map("".join))
def test_sanitised_css_is_always_safe_and_stable(css: str) -> None:
    once = sanitize_css(css)
    assert_safe(once)
    assert sanitize_css(once) == once


@given(st.text(max_size=300))
def test_sanitiser_output_is_safe_for_any_text(css: str) -> None:
    assert_safe(sanitize_css(css))
