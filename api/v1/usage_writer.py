"""Single usage events from many concurrent requests, recorded in shared transactions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.datastructures import State

from agents.metering.ingest import EventOutcome, record_usage
from agents.metering.meters import load_meters
from api.group_commit import GroupCommit
from db.session import Database
from orchestrator.wiring import Runtime

Report = tuple[int | None, Any]
"""(the caller's customer id, None for an operator; the raw event)"""


def usage_writer(database: Database, meters_file: Path | None) -> GroupCommit[Report, EventOutcome]:
    """Each batch is one transaction with one `record_usage` per caller (a key reports only
    its own customer's usage); every event gets its own outcome, indexed 0."""

    def write(reports: list[Report]) -> list[EventOutcome]:
        meters = load_meters(meters_file)
        by_caller: dict[int | None, list[int]] = {}
        for position, (caller, _event) in enumerate(reports):
            by_caller.setdefault(caller, []).append(position)
        outcomes: dict[int, EventOutcome] = {}
        with database.transaction() as session:
            for caller, positions in by_caller.items():
                events = [reports[position][1] for position in positions]
                result = record_usage(session, meters, events, caller_customer_id=caller)
                for outcome in result.outcomes:
                    outcomes[positions[outcome.index]] = replace(outcome, index=0)
        return [outcomes[position] for position in range(len(reports))]

    return GroupCommit(write)


def app_usage_writer(state: State, runtime: Runtime) -> GroupCommit[Report, EventOutcome]:
    """The app's one writer (`state`: the app's), created on first use."""
    writer: GroupCommit[Report, EventOutcome] | None = getattr(state, "usage_writer", None)
    if writer is None:  # no await since the check: no other request can race us here
        writer = usage_writer(runtime.database, runtime.settings.meters_file)
        state.usage_writer = writer
    return writer
