"""`api.group_commit.GroupCommit`: batches across concurrent callers, each answered in its loop."""

from __future__ import annotations

import asyncio
import threading
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


def test_a_coroutine_writer_is_awaited_in_the_loop_and_batches_alike() -> None:
    batches: list[list[int]] = []
    threads: set[int] = set()

    async def write(items: list[int]) -> list[int]:
        batches.append(items)
        threads.add(threading.get_ident())
        if 13 in items:
            raise ValueError("13 is refused")
        await asyncio.sleep(0.01)
        return [item * 2 for item in items]

    commit = GroupCommit.in_loop(write)

    async def everyone() -> list[int | BaseException]:
        return await asyncio.gather(*(commit.submit(i) for i in range(40)), return_exceptions=True)

    answers = asyncio.run(everyone())

    assert [a for i, a in enumerate(answers) if i != 13] == [i * 2 for i in range(40) if i != 13]
    assert isinstance(answers[13], ValueError)
    assert batches[0] == list(range(40))
    assert batches[1:] == [[i] for i in range(40)]
    assert threads == {threading.get_ident()}  # no worker thread


def test_a_coroutine_writer_has_one_batch_in_flight_while_the_next_gathers() -> None:
    in_flight: list[int] = [0]
    most: list[int] = [0]
    batches: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        batches.append(items)
        await asyncio.sleep(0.01)
        in_flight[0] -= 1
        return items

    commit = GroupCommit.in_loop(write)

    async def staggered() -> list[int]:
        answers = []
        for item in range(20):
            answers.append(asyncio.create_task(commit.submit(item)))
            await asyncio.sleep(0.002)
        return await asyncio.gather(*answers)

    assert asyncio.run(staggered()) == list(range(20))
    assert most[0] == 1
    assert len(batches) < 10  # callers arriving during a write share the next one


def test_an_item_submitted_as_the_last_flusher_ends_is_still_written() -> None:
    """A caller that arrives after the flusher found nothing left, but before the loop ran the
    finished task's done callbacks, must start a flusher of its own (it was left waiting for
    good: the quick benchmark's last request hung)."""
    late: list[asyncio.Task[int]] = []

    async def write(items: list[int]) -> list[int]:
        if not late:  # its first step runs after this batch's flusher ends
            late.append(asyncio.create_task(commit.submit(7)))
        return [item * 2 for item in items]

    commit: GroupCommit[int, int] = GroupCommit.in_loop(write)

    async def first_then_late() -> tuple[int, int]:
        first = await commit.submit(1)
        return first, await asyncio.wait_for(late[0], timeout=2)

    assert asyncio.run(first_then_late()) == (2, 14)
