"""The Redis transport when a worker loses its broker connection with tasks still running (acks
late): their messages must go back to the queue, and the worker must be able to reconnect.

Celery's worker tears a lost connection down with ``Connection.collect()``, which detaches the
transport from the connection (``transport.client = None``), and then ``Connection.close()``, which
closes the task channel and restores its unacknowledged messages. On Redis the channel is often
still open by then, so its restore and the late acks run on a detached transport."""

import uuid

import pytest
import redis
from django.conf import settings
from kombu import Connection, Exchange, Producer, Queue

from segapp import broker


@pytest.fixture
def redis_url():
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "set CELERY_BROKER_URL to Redis"
    return settings.CELERY_BROKER_URL


@pytest.fixture
def connection(redis_url):
    connection = Connection(redis_url)
    yield connection
    connection.collect()


@pytest.fixture
def queue(redis_url):
    name = f"test-broker-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url)
    yield name, client
    client.delete(name)
    client.close()


def received_unacked(connection, name):
    """A channel holding one delivered, unacknowledged message of queue ``name``."""
    channel = connection.channel()
    queue = Queue(name, Exchange("", type="direct"), routing_key=name, channel=channel)
    queue.declare()
    Producer(channel).publish({"n": 1}, routing_key=name)
    message = queue.get(no_ack=False)
    assert message.payload == {"n": 1}
    return channel, message


def test_the_broker_urls_use_the_segapp_transport(redis_url):
    with Connection(redis_url) as connection:
        assert connection.transport_cls == "redis"
        assert type(connection.transport) is broker.Transport
    with Connection(redis_url.replace("redis://", "rediss://", 1)) as connection:
        assert type(connection.transport) is broker.Transport
        assert connection.ssl, "kombu's rediss handling was lost"


def test_a_detached_channel_restores_its_unacked_messages_on_close(connection, queue):
    name, client = queue
    channel, _ = received_unacked(connection, name)
    assert client.llen(name) == 0

    connection.transport.client = None  # what Connection.collect() does
    channel.close()

    assert client.llen(name) == 1, "the unacknowledged message was lost"


def test_a_late_ack_after_the_restore_does_not_fail(connection, queue):
    """The task finishes after the connection was torn down: its ack must not take the worker
    down, and the restored copy stays queued (the task's own claim makes the rerun a no-op)."""
    name, client = queue
    channel, message = received_unacked(connection, name)

    connection.transport.client = None  # what Connection.collect() does
    channel.close()
    message.ack()

    assert client.llen(name) == 1
    assert not client.hexists(channel.unacked_key, message.delivery_tag)
