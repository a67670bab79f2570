"""Wallet money actions behind the approval gate: operator grants and refund clawbacks.

plan -> await_approval (only interrupt) -> execute -> record. Both actions are postings on our
own ledger, no outside call: their idempotency is the ledger's unique keys (`approval:<id>`,
`clawback:<id>`), and they commit with the task's unit of work, so a rolled-back run is run
again from the gate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from sqlalchemy.orm import Session

from agents.approvals import repository as approvals
from agents.approvals import service
from agents.approvals.service import SubmitTask
from agents.context import AgentContext
from agents.ledger_journal import rules as posting
from agents.ledger_journal import writer as journal
from agents.ledger_journal.accounts import party
from agents.money_graph import drive_money_graph
from agents.wallet import ledger
from agents.wallet.rules import CLAWBACK, token_value
from core.clock import utcnow
from core.errors import InvalidInput, NotFound, PermanentError
from core.settings import Settings
from db.audit import record_audit
from db.models import Approval, ApprovalStatus, Customer

S = ApprovalStatus
GRANT_ACTION = "wallet_grant"
CLAWBACK_ACTION = "wallet_clawback"
ACTOR = "agent:wallet"


class WalletApprovalState(TypedDict, total=False):
    approval_id: int
    plan: dict[str, Any]  # action, customer, tokens (and expiry): fixed before the gate
    decision: str
    result: dict[str, Any]


def request_grant(
    session: Session,
    *,
    customer_id: int,
    tokens: int,
    reason: str,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings,
    expires_at: datetime | None = None,
    origin: str | None = None,
) -> Approval:
    """An operator's token grant is a credit: it waits for another operator's approval."""
    if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens <= 0:
        raise InvalidInput(f"tokens must be a positive integer, got {tokens!r}", code="bad_tokens")
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    plan = {
        "action": GRANT_ACTION,
        "customer_id": customer_id,
        "tokens": tokens,
        "expires_at": expires_at.isoformat() if expires_at else None,
    }
    return _open(session, plan, reason, requested_by, submit, settings, origin)


def request_clawback(
    session: Session,
    *,
    customer_id: int,
    tokens: int,
    wallet_refund_id: int,
    submit: SubmitTask,
    settings: Settings,
) -> Approval:
    """Tokens of a refunded purchase were already spent: an operator decides whether to
    take them from the customer's other grants (approve) or write them off (reject)."""
    plan = {
        "action": CLAWBACK_ACTION,
        "customer_id": customer_id,
        "tokens": tokens,
        "wallet_refund_id": wallet_refund_id,
    }
    reason = f"refunded token purchase: {tokens:,} tokens were already spent"
    return _open(session, plan, reason, ACTOR, submit, settings, None)


def _open(
    session: Session,
    plan: dict[str, Any],
    reason: str,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings,
    origin: str | None,
) -> Approval:
    approval = service.open_money_approval(
        session,
        action=plan["action"],
        subject_type="customer",
        subject_id=str(plan["customer_id"]),
        amount=token_value(plan["tokens"], settings.wallet_price_per_1k_tokens),
        currency=settings.wallet_currency,
        reason=reason,
        requested_by=requested_by,
        submit=submit,
        settings=settings,
        origin=origin,
        audit_data={"tokens": plan["tokens"]},
    )
    approval.customer_id = plan["customer_id"]
    session.flush()
    submit(
        session,
        "wallet.approval.start",
        {"approval_id": approval.id, "plan": plan},
        dedupe_key=f"wallet-approval-start:{approval.id}",
    )
    return approval


def plan_action(state: WalletApprovalState, runtime: Runtime[AgentContext]) -> WalletApprovalState:
    """The plan travels in the start task; check its approval exists before anyone decides."""
    with runtime.context.database.transaction() as session:
        approval = session.get(Approval, state["approval_id"])
        if approval is None or approval.action not in (GRANT_ACTION, CLAWBACK_ACTION):
            raise PermanentError(f"no wallet approval {state['approval_id']}")
    return {}


def await_approval(state: WalletApprovalState) -> WalletApprovalState:
    """The human gate. Only interrupts: LangGraph re-runs this node from the top on resume."""
    return {"decision": interrupt({"approval_id": state["approval_id"]})}


def execute_action(
    state: WalletApprovalState, runtime: Runtime[AgentContext]
) -> WalletApprovalState:
    """Post the grant, or the clawback of at most the balance, under the approval's key."""
    session, plan, approval_id = runtime.context.session, state["plan"], state["approval_id"]
    customer_id, tokens = plan["customer_id"], plan["tokens"]
    if plan["action"] == GRANT_ACTION:
        expires = plan.get("expires_at")
        grant_id = ledger.post_grant(
            session,
            ledger.NewGrant(
                customer_id=customer_id,
                tokens=tokens,
                source="operator",
                source_ref=f"approval:{approval_id}",
                expires_at=datetime.fromisoformat(expires) if expires else None,
            ),
        )
        if grant_id is not None:
            _post_credit(runtime.context, approval_id, customer_id, tokens)
        return {"result": {"granted": tokens, "grant_id": grant_id}}
    ledger.ensure_account(session, customer_id)
    ledger.lock_account(session, customer_id)
    ledger.sweep_expired(session, customer_id, utcnow())
    taken = min(tokens, ledger.balance_of(session, customer_id))
    ledger.post_debit(
        session, customer_id, tokens=taken, kind=CLAWBACK, key=f"clawback:{approval_id}"
    )
    return {"result": {"clawed_back": taken, "written_off": tokens - taken}}


def _post_credit(ctx: AgentContext, approval_id: int, customer_id: int, tokens: int) -> None:
    """An operator's grant is credit given away: posted to the journal at the tokens' value."""
    settings = ctx.settings
    value = token_value(tokens, settings.wallet_price_per_1k_tokens)
    if value > 0:
        journal.post(
            ctx.session,
            posting.credit_granted(
                dedupe_key=f"wallet-grant:approval:{approval_id}",
                amount=value,
                currency=settings.wallet_currency,
                customer_party=party("customer", customer_id),
                data={"approval_id": approval_id, "tokens": tokens},
            ),
        )


def record_outcome(
    state: WalletApprovalState, runtime: Runtime[AgentContext]
) -> WalletApprovalState:
    session, approval_id, result = runtime.context.session, state["approval_id"], state["result"]
    now = utcnow()
    if approvals.move_status(
        session, approval_id, S.APPROVED, S.EXECUTED, executed_at=now, result=result
    ):
        record_audit(
            session,
            actor=ACTOR,
            action=f"{state['plan']['action']}.executed",
            subject_type="approval",
            subject_id=approval_id,
            data=result,
        )
    return {}


def _after_gate(state: WalletApprovalState) -> str:
    return "execute_action" if state.get("decision") == S.APPROVED else END


def build_wallet_approval_graph() -> StateGraph[
    WalletApprovalState, AgentContext, WalletApprovalState, WalletApprovalState
]:
    graph = StateGraph(WalletApprovalState, context_schema=AgentContext)
    graph.add_node("plan_action", plan_action)
    graph.add_node("await_approval", await_approval)
    graph.add_node("execute_action", execute_action)
    graph.add_node("record_outcome", record_outcome)
    graph.add_edge(START, "plan_action")
    graph.add_edge("plan_action", "await_approval")
    graph.add_conditional_edges("await_approval", _after_gate, ["execute_action", END])
    graph.add_edge("execute_action", "record_outcome")
    graph.add_edge("record_outcome", END)
    return graph


_GRAPH = build_wallet_approval_graph()


def advance_wallet_approval(
    ctx: AgentContext, kind: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """`wallet.approval.start`: run to the gate. `...resume`: go on as the approvals table says."""
    approval_id = int(payload["approval_id"])
    with ctx.database.transaction() as session:
        approval = session.get(Approval, approval_id)
        if approval is None:
            raise PermanentError(f"no approval {approval_id}")
        status, thread_id = approval.status, approval.thread_id or f"wallet:{approval_id}"
    start: WalletApprovalState | None = (
        {"approval_id": approval_id, "plan": payload["plan"]} if "plan" in payload else None
    )
    snapshot = drive_money_graph(
        ctx,
        _GRAPH,
        thread_id=thread_id,
        start=dict(start) if start else None,
        resume_with=status if kind == "wallet.approval.resume" else None,
        rerun_from="execute_action" if status == S.APPROVED else None,
    )
    return {
        "approval_id": approval_id,
        "decision": snapshot.values.get("decision"),
        "paused": bool(snapshot.interrupts),
        "result": snapshot.values.get("result"),
    }
