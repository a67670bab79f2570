"""The copilot without a model: a few plain requests, parsed by patterns, through the same tools."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agents.approvals.repository import find_payment
from agents.copilot.evidence import refundable
from agents.copilot.prompts import FALLBACK_HELP
from agents.copilot.tools import CopilotTools

Answer = dict[str, Any]  # reply, proposals, question


def _customer(tools: CopilotTools, m: re.Match[str]) -> Answer:
    matches = tools.find_customer(m["query"])["matches"]
    if not matches:
        return {"reply": f"No customer matches {m['query']!r}."}
    lines = [f"#{c['id']} {c['email'] or '-'} {c['name'] or ''}".rstrip() for c in matches]
    return {"reply": "\n".join(lines)}


def _refund_duplicate(tools: CopilotTools, m: re.Match[str]) -> Answer:
    matches = tools.find_customer(m["query"])["matches"]
    if len(matches) != 1:
        return _which_customer(m["query"], matches)
    payments = tools.list_payments(matches[0]["id"])["payments"]
    twins = [p for p in payments if p["duplicate_of"] and p["refundable"]]
    if len(twins) != 1:
        found = "no" if not twins else f"{len(twins)}"
        return {"question": f"I found {found} likely duplicate charges; which payment is it?"}
    twin = twins[0]
    reason = f"duplicate of payment {twin['duplicate_of']}"
    args = {"payment": str(twin["payment_id"]), "amount": twin["refundable"], "reason": reason}
    return _proposed(tools.call("propose_refund", args))


def _refund(tools: CopilotTools, m: re.Match[str]) -> Answer:
    amount = int(m["amount"]) if m["amount"] else None
    if amount is None:
        payment = _payment_by_ref(tools, m["payment"])
        if payment is None:
            return {"reply": f"No payment {m['payment']!r}."}
        amount = payment["refundable"]
    args = {"payment": m["payment"], "amount": amount, "reason": "requested by the operator"}
    return _proposed(tools.call("propose_refund", args))


def _retry(tools: CopilotTools, m: re.Match[str]) -> Answer:
    args = {"task_id": int(m["task"]), "reason": "requested by the operator"}
    return _proposed(tools.call("propose_task_retry", args))


def _pending(tools: CopilotTools, _m: re.Match[str]) -> Answer:
    rows = tools.approval_status("pending")["approvals"]
    lines = [f"#{a['id']} {a['action']} {a['amount']} {a['currency']}: {a['reason']}" for a in rows]
    return {"reply": "\n".join(lines) or "No pending approvals."}


def _dead(tools: CopilotTools, _m: re.Match[str]) -> Answer:
    rows = tools.task_status("dead")["tasks"]
    return {"reply": "\n".join(f"#{t['id']} {t['kind']}" for t in rows) or "No dead tasks."}


INTENTS: list[tuple[re.Pattern[str], Callable[[CopilotTools, re.Match[str]], Answer]]] = [
    (
        re.compile(r"refund (?:the )?duplicate charge (?:of|for) (?P<query>\S+)", re.I),
        _refund_duplicate,
    ),
    (re.compile(r"^refund (?:payment )?(?P<payment>[\w-]+)(?: (?P<amount>\d+))?$", re.I), _refund),
    (re.compile(r"^retry task (?P<task>\d+)$", re.I), _retry),
    (re.compile(r"^(?:find |show )?customer (?P<query>.+)$", re.I), _customer),
    (re.compile(r"^pending approvals$", re.I), _pending),
    (re.compile(r"^dead tasks$", re.I), _dead),
]


def answer_without_model(tools: CopilotTools, text: str) -> Answer:
    request = " ".join(text.split()).rstrip("?.!")
    for pattern, handler in INTENTS:
        match = pattern.search(request)
        if match:
            return handler(tools, match)
    return {"reply": FALLBACK_HELP}


def _proposed(result: dict[str, Any]) -> Answer:
    if "error" in result:
        return {"reply": f"Not proposed: {result['error']}"}
    p = result["proposal"]
    return {
        "reply": f"Proposed {p['action']} (approval {p['approval_id']}), pending a human decision.",
        "proposals": [p],
    }


def _which_customer(query: str, matches: list[dict[str, Any]]) -> Answer:
    if not matches:
        return {"reply": f"No customer matches {query!r}."}
    options = ", ".join(f"#{c['id']} {c['email']}" for c in matches)
    return {"question": f"Several customers match {query!r}: {options}. Which one?"}


def _payment_by_ref(tools: CopilotTools, ref: str) -> dict[str, Any] | None:
    with tools.database.transaction() as session:
        payment = find_payment(session, ref)
        return None if payment is None else {"refundable": refundable(payment)}
