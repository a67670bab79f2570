"""The dunning schedule setting: parsing, refusals, due times and the hard-decline jump."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.dunning.schedule import (
    ScheduleError,
    Step,
    is_hard_decline,
    parse_schedule,
)
from core.settings import Settings

DEFAULT = Settings.model_fields["dunning_schedule"].default


def test_default_schedule_reminds_on_days_0_3_5_7_then_restricts_then_cancels() -> None:
    schedule = parse_schedule(DEFAULT)
    assert schedule.steps == (
        Step(0, "remind"),
        Step(3, "remind"),
        Step(5, "remind"),
        Step(7, "final_notice"),
        Step(10, "restrict"),
        Step(14, "cancel"),
    )
    assert schedule.final_reminder() == 3


def test_each_step_is_due_its_days_after_the_previous_steps_due_time() -> None:
    schedule = parse_schedule(DEFAULT)
    failed = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    due = [failed]
    for index in range(len(schedule.steps) - 1):
        following = schedule.due_after(index, due[-1])
        assert following is not None
        due.append(following)
    assert [(d - failed).days for d in due] == [0, 3, 5, 7, 10, 14]
    assert schedule.due_after(5, due[-1]) is None


def test_without_a_final_notice_a_hard_decline_jumps_to_the_last_reminder() -> None:
    assert parse_schedule("0:remind,2:remind,9:cancel").final_reminder() == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0:remind,3:nag", "action must be one of"),
        ("remind", "expected <day>:<action>"),
        ("-1:remind", "expected <day>:<action>"),
        ("5:remind,3:remind", "must not decrease"),
        ("0:restrict,3:cancel", "at least one reminder"),
        ("0:remind,3:cancel,5:remind", "'cancel' must be the last step"),
        ("0:final_notice,3:final_notice", "one 'final_notice' step at most"),
    ],
)
def test_a_malformed_schedule_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ScheduleError, match=problem):
        parse_schedule(text)


@pytest.mark.parametrize(
    ("code", "decline_code", "hard"),
    [
        ("card_declined", "do_not_honor", True),
        ("card_declined", "lost_card", True),
        ("card_declined", "stolen_card", True),
        ("card_declined", "fraudulent", True),
        ("card_declined", "insufficient_funds", False),
        ("card_declined", None, False),
        ("expired_card", "do_not_honor", False),
        (None, None, False),
    ],
)
def test_hard_declines_are_card_declined_with_a_final_decline_code(
    code: str | None, decline_code: str | None, hard: bool
) -> None:
    assert is_hard_decline(code, decline_code) is hard
