"""`api.group_commit.GroupCommit`: batches across concurrent callers, each answered in its loop."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from api.group_commit import GroupCommit


def _slow_double(items: list[int]) -> list[int]:
    time.sleep(0.02)  # long enough for callers from other loops to arrive meanwhile
    return [item * 2 for item in items]


def test_callers_in_different_event_loops_are_each_answered() -> None:
    commit = GroupCommit(_slow_double)

    def submit_in_a_loop_of_its_own(item: int) -> int:
        return asyncio.run(commit.submit(item))

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(submit_in_a_loop_of_its_own, range(24), timeout=20))

    assert answers == [item * 2 for item in range(24)]


def test_concurrent_callers_share_batches_and_a_bad_item_fails_alone() -> None:
    batches: list[list[int]] = []

    def write(items: list[int]) -> list[int]:
        batches.append(items)
        if 13 in items:
            raise ValueError("13 is refused")
        time.sleep(0.01)
        return [item * 2 for item in items]

    commit = GroupCommit(write)

    async def everyone() -> list[int | BaseException]:
        return await asyncio.gather(*(commit.submit(i) for i in range(40)), return_exceptions=True)

    answers = asyncio.run(everyone())

    assert [a for i, a in enumerate(answers) if i != 13] == [i * 2 for i in range(40) if i != 13]
    assert isinstance(answers[13], ValueError)
    assert batches[0] == list(range(40))  # one shared batch, then each item alone
    assert batches[1:] == [[i] for i in range(40)]
