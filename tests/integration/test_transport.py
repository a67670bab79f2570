"""Redis Streams transport: consumer groups, takeover of a dead consumer's messages, flushes."""

from __future__ import annotations

from orchestrator.transport import StreamTransport


def test_message_read_by_a_dead_consumer_is_autoclaimed_by_another(
    transport: StreamTransport,
) -> None:
    transport.publish([("noop", 41), ("noop", 42)])
    read = transport.read(["noop"], "worker-that-dies", count=10, block_ms=100)
    assert [task_id for _, _, task_id in read] == [41, 42]

    claimed = transport.autoclaim("noop", "survivor", min_idle_ms=0)

    assert sorted(task_id for _, _, task_id in claimed) == [41, 42]
    transport.ack("noop", [message_id for _, message_id, _ in claimed])
    assert transport.autoclaim("noop", "survivor", min_idle_ms=0) == []
    assert transport.depth("noop")["pending"] == 0


def test_messages_are_delivered_to_one_consumer_of_the_group(transport: StreamTransport) -> None:
    transport.publish([("noop", n) for n in range(10)])
    first = transport.read(["noop"], "a", count=6, block_ms=100)
    second = transport.read(["noop"], "b", count=10, block_ms=100)
    ids = [t for _, _, t in first] + [t for _, _, t in second]
    assert sorted(ids) == list(range(10))


def test_reading_after_a_flush_recreates_the_group(transport: StreamTransport) -> None:
    transport.publish([("noop", 1)])
    transport.read(["noop"], "a", count=10, block_ms=100)
    transport.redis.flushdb()

    assert transport.read(["noop"], "a", count=10, block_ms=100) == []
    transport.publish([("noop", 2)])
    assert [t for _, _, t in transport.read(["noop"], "a", count=10, block_ms=100)] == [2]
