"""The dunning schedule as pure data: which action on which day after the first failed payment.

Written in the setting `MONETA_DUNNING_SCHEDULE` as `day:action` pairs, e.g. the default
`0:remind,3:remind,5:remind,7:final_notice,10:restrict,14:cancel`. Each step is due a number
of days after the previous one (as written), so a case that jumps to its final notice after a
hard decline keeps the spacing of the steps that follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Action = Literal["remind", "final_notice", "restrict", "cancel"]
ACTIONS: tuple[Action, ...] = ("remind", "final_notice", "restrict", "cancel")
REMINDERS = frozenset({"remind", "final_notice"})
# Card declines that no retry will turn into a payment (the bank said no for good).
HARD_DECLINE_CODES = frozenset({"do_not_honor", "lost_card", "stolen_card", "fraudulent"})


class ScheduleError(ValueError):
    """The dunning schedule setting is malformed; the message names the entry."""


@dataclass(frozen=True)
class Step:
    day: int
    action: Action


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]

    def step(self, index: int) -> Step | None:
        return self.steps[index] if index < len(self.steps) else None

    def final_reminder(self) -> int:
        """Where a hard decline jumps: the final notice, else the last reminder."""
        reminders = [i for i, step in enumerate(self.steps) if step.action in REMINDERS]
        finals = [i for i in reminders if self.steps[i].action == "final_notice"]
        return (finals or reminders)[-1]

    def due_after(self, index: int, previous_due: datetime) -> datetime | None:
        """When step `index + 1` is due, the step `index` having been due at `previous_due`."""
        current, following = self.step(index), self.step(index + 1)
        if current is None or following is None:
            return None
        return previous_due + timedelta(days=following.day - current.day)


def parse_schedule(text: str) -> Schedule:
    """`"0:remind,3:remind,...,14:cancel"` -> Schedule; ScheduleError naming the bad entry."""
    steps: list[Step] = []
    for raw in (part.strip() for part in text.split(",")):
        day_text, sep, action = raw.partition(":")
        if not sep or not day_text.strip().isdigit():
            raise ScheduleError(f"dunning schedule entry {raw!r}: expected <day>:<action>")
        action = action.strip()
        if action not in ACTIONS:
            raise ScheduleError(f"dunning schedule entry {raw!r}: action must be one of {ACTIONS}")
        steps.append(Step(int(day_text), action))  # type: ignore[arg-type]
    _check(steps)
    return Schedule(tuple(steps))


def _check(steps: list[Step]) -> None:
    if not any(step.action in REMINDERS for step in steps):
        raise ScheduleError("the dunning schedule needs at least one reminder")
    days = [step.day for step in steps]
    if days != sorted(days):
        raise ScheduleError(f"dunning schedule days must not decrease: {days}")
    for action in ("final_notice", "restrict", "cancel"):
        if sum(step.action == action for step in steps) > 1:
            raise ScheduleError(f"the dunning schedule may hold one {action!r} step at most")
    if any(step.action == "cancel" for step in steps[:-1]):
        raise ScheduleError("'cancel' must be the last step of the dunning schedule")


def is_hard_decline(code: str | None, decline_code: str | None) -> bool:
    """A `card_declined` whose decline code says retrying is pointless."""
    return code == "card_declined" and decline_code in HARD_DECLINE_CODES
