"""The process lifecycle as an explicit transition table: draft -> active <-> paused -> retired."""

from __future__ import annotations

from core.errors import Conflict

DRAFT, ACTIVE, PAUSED, RETIRED = "draft", "active", "paused", "retired"

TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({ACTIVE}),
    ACTIVE: frozenset({PAUSED, RETIRED}),
    PAUSED: frozenset({ACTIVE, RETIRED}),
    RETIRED: frozenset(),
}

# The verbs operators and owners use, and the status each leads to.
ACTIONS: dict[str, str] = {
    "activate": ACTIVE,
    "pause": PAUSED,
    "resume": ACTIVE,
    "retire": RETIRED,
}


class IllegalTransition(Conflict):
    code = "illegal_transition"


def target_of(action: str, current: str) -> str:
    """The status `action` moves a process in `current` to; refuses what the table does not allow.

    `resume` only leaves `paused` and `activate` only leaves `draft`, so each verb means one move.
    """
    target = ACTIONS.get(action)
    if target is None:
        raise IllegalTransition(f"unknown action {action!r}; one of {sorted(ACTIONS)}")
    expected_source = {"activate": DRAFT, "resume": PAUSED}.get(action)
    allowed = target in TRANSITIONS[current] and expected_source in (None, current)
    if not allowed:
        raise IllegalTransition(f"cannot {action} a process that is {current}")
    return target
