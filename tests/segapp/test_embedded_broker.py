"""The embedded broker (segapp/embedded_broker.py) under concurrent publishers and consumers, as
the web processes and the worker use it: every message is consumed exactly once, none unreadable.
kombu's own filesystem transport fails this (a reader opens a message before it is written)."""

from kombu import Connection

from bench.embedded_broker import TRANSPORTS, exchange
from segapp import embedded_broker


def test_concurrent_publishers_and_consumers_take_every_message_exactly_once():
    result = exchange(TRANSPORTS["segapp"], publishers=4, messages=1000, consumers=2)
    print(result.summary())
    assert result.errors == []
    assert sorted(result.consumed) == list(range(4000))


def test_filesystem_urls_use_the_embedded_broker():
    with Connection("filesystem://") as connection:
        assert isinstance(connection.transport, embedded_broker.Transport)
