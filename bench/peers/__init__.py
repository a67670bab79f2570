"""Peer task queues (Dramatiq, Celery, RQ, arq) and the raw Redis Streams ceiling, measured the
same way as Moneta's queue: enqueue N no-op tasks, then drain them with running workers."""
