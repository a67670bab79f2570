"""The invoice and dunning calls (`invoice_calls.InvoiceCalls`) in the offline sandbox."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from tools.stripe.gateway import StripeNotFound
from tools.stripe.sandbox_store import SandboxStore, earlier_outcome, load, store


class SandboxInvoiceCalls(SandboxStore):
    """Invoices seeded with `put("invoice", ...)`; a replayed key returns the first outcome."""

    def list_invoice_lines(self, *, invoice: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            found = load(db, "invoice", invoice)
        if found is None:
            raise StripeNotFound(f"No such invoice: '{invoice}'")
        return list((found.get("lines") or {}).get("data") or [])

    def stop_invoice_collection(self, *, invoice: str, idempotency_key: str) -> dict[str, Any]:
        with self._write() as db:
            request = json.dumps({"invoice": invoice, "auto_advance": False})
            earlier = earlier_outcome(db, idempotency_key, request)
            if earlier is not None:
                return earlier["invoice"]  # type: ignore[no-any-return]
            found = load(db, "invoice", invoice)
            if found is None:
                raise StripeNotFound(f"No such invoice: '{invoice}'")
            found["auto_advance"] = False
            found["next_payment_attempt"] = None
            store(db, "invoice", found)
            _remember(db, idempotency_key, request, {"invoice": found})
        return found


def _remember(db: sqlite3.Connection, key: str, request: str, outcome: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO idempotency_keys (key, request, outcome) VALUES (?, ?, ?)",
        (key, request, json.dumps(outcome)),
    )
