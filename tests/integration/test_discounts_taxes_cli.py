"""`moneta discounts ...` and `moneta taxes ...` as an operator runs them (offline sandbox)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from core.settings import Settings
from db.models import Customer
from db.session import Database
from orchestrator.cli import app


def run(cli: CliRunner, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.output


def test_validate_lists_each_problem_by_file_line_and_field(
    cli_env: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "discounts.yaml"
    bad.write_text("coupons:\n  - {key: x, percent_off: 5, duration: weekly}\n")
    code, output = run(cli_env, "discounts", "validate", "--file", str(bad))
    assert code == 1
    assert f"{bad}:2: coupons[0].duration: must be 'once', 'repeating' or 'forever'" in output
    code, output = run(cli_env, "discounts", "validate")
    assert code == 0 and "valid: 3 coupons, 3 promotion codes" in output
    code, output = run(cli_env, "taxes", "validate")
    assert code == 0 and "27 EU VAT rates" in output


def test_sync_twice_creates_once_and_show_lists_the_stripe_ids(cli_env: CliRunner) -> None:
    assert run(cli_env, "catalog", "sync")[0] == 0
    code, output = run(cli_env, "discounts", "sync")
    assert code == 0 and "6 created, 0 unchanged" in output
    code, output = run(cli_env, "discounts", "sync")
    assert code == 0 and "0 created, 6 unchanged" in output
    code, output = run(cli_env, "discounts", "show")
    assert code == 0 and "WELCOME20" in output and "promo_" in output
    code, output = run(cli_env, "taxes", "sync")
    assert code == 0 and "33 created, 0 unchanged" in output
    code, output = run(cli_env, "taxes", "sync")
    assert code == 0 and "0 created, 33 unchanged" in output


def test_a_tax_profile_drives_the_quote(
    cli_env: CliRunner, database: Database, settings: Settings
) -> None:
    with database.transaction() as session:
        customer = Customer(email="buyer@example.com")
        session.add(customer)
        session.flush()
        customer_id = str(customer.id)
    set_profile = ("taxes", "profile", "set", "--customer", customer_id)
    code, output = run(cli_env, *set_profile, "--country", "nl", "--vat-id", "NL123", "--business")
    assert code == 1 and "bad_vat_id" in output
    code, output = run(
        cli_env, *set_profile, "--country", "nl", "--vat-id", "nl123456789b01", "--business"
    )
    assert code == 0 and "business in NL, VAT id NL123456789B01" in output
    code, output = run(cli_env, "taxes", "quote", "--customer", customer_id, "--amount", "99.00")
    assert code == 0 and "reverse_charge" in output and "USD 99.00" in output
    assert run(cli_env, *set_profile, "--country", "US", "--state", "ny")[0] == 0
    code, output = run(
        cli_env, "taxes", "quote", "--customer", customer_id, "--amount", "99.00", "--json"
    )
    assert code == 0 and '"tax": "USD 3.96"' in output and '"gross": "USD 102.96"' in output


def test_check_explains_a_refusal(cli_env: CliRunner) -> None:
    code, output = run(cli_env, "discounts", "check", "welcome20", "--price", "api_calls_per_unit")
    assert code == 1 and "not_for_plan" in output
    code, output = run(cli_env, "discounts", "check", "Welcome20", "--price", "pro_monthly")
    assert code == 0 and "20%" in output
