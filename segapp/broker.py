"""The Redis broker transport: kombu's, with channels that outlive their connection's teardown.

When a worker loses Redis, Celery's consumer first calls ``Connection.collect()`` and then
``Connection.close()``. On Redis the first close of the task channel stops early (reading the
pending BRPOP reply fails), and ``collect()`` then detaches the transport from its connection
(``transport.client = None``). The second close restores the unacknowledged messages (acks_late
tasks still running) through a new Redis pool, whose parameters kombu reads from that detached
client: ``AttributeError: 'NoneType' object has no attribute 'hostname'``. That error is not a
connection error, so the worker logs "Unrecoverable error" and shuts down instead of reconnecting.
The late ack of a task that was running at the time fails the same way.

Here each channel keeps the Redis parameters it computed while attached and uses them once
detached, so the restore and the late ack reach Redis (or fail with a connection error, which
kombu and Celery handle), and the worker reconnects.
"""

from kombu.transport import TRANSPORT_ALIASES, redis


class Channel(redis.Channel):
    def __init__(self, connection, *args, **kwargs):
        self._attached_connparams: dict[bool, dict] = {}
        super().__init__(connection, *args, **kwargs)
        self._connparams(asynchronous=False)  # remember the synchronous pool's too

    def _connparams(self, asynchronous=False):
        key = bool(asynchronous)
        detached = self.connection is None or self.connection.client is None
        if detached and key in self._attached_connparams:
            return dict(self._attached_connparams[key])
        params = super()._connparams(asynchronous=asynchronous)
        self._attached_connparams[key] = dict(params)
        return params


class Transport(redis.Transport):
    Channel = Channel


def register() -> None:
    """Serves ``redis://`` and ``rediss://`` broker URLs with this transport (the scheme is kept,
    so kombu still applies its ``rediss`` TLS handling)."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
