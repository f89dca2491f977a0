"""The embedded broker: kombu's filesystem transport, with messages that are whole or not there.

kombu's writer creates a message file and only then writes it, and its reader may open the file in
between: it reads nothing, ``json.loads`` raises ``JSONDecodeError``, and the Celery worker stops
with "Unrecoverable error" (https://github.com/celery/kombu/issues/1551). Its reader also claims a
message by moving it into the system's temporary folder, which on another file system is a copy
and a delete, so two workers can both take it. Exchange tables are rewritten in place after a
truncating open, so a reader can read those empty too.

Here a message is written under a hidden temporary name in the queue folder and renamed into place
(``os.replace`` is atomic within a folder), readers skip hidden names, and a reader claims a message
by renaming it into the processed folder beside the queue: exactly one rename succeeds. Exchange
tables are replaced the same way, under a lock file so concurrent bindings are not lost.

Files are not fsynced: a message lost to a power cut is sent again by the sweeps, as the database
is the source of truth (DESIGN §4.1).
"""

import contextlib
import fcntl
import logging
import os
import time
import uuid
from collections import deque
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps, loads

log = logging.getLogger("segapp.broker")

HIDDEN = "."


def write_atomically(path: str, data: bytes) -> None:
    folder, name = os.path.split(path)
    temporary = os.path.join(folder, f"{HIDDEN}{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ChannelError(f"Cannot add file {path!r} to directory") from exc


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Per queue, the message names of the last listing not taken yet: a backlog is listed
        # once, not once per message.
        self._listed: dict[str, deque[str]] = {}

    def _put(self, queue, payload, **kwargs):
        # Wall-clock nanoseconds, zero-padded, so names sort in sending order across processes
        # and restarts (kombu's monotonic milliseconds restart at zero after a reboot).
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        write_atomically(os.path.join(self.data_folder_out, name), dumps(payload).encode())

    def _get(self, queue):
        listed = self._listed.get(queue)
        if not listed:
            listed = self._listed[queue] = deque(self._list(queue))
        while listed:
            name = listed.popleft()
            payload = self._claim(name)
            if payload is None:
                continue  # another consumer took it
            try:
                return loads(payload)
            except ValueError:
                log.error("Skipped the unreadable broker message %s", name)
        raise Empty()

    def _list(self, queue) -> list[str]:
        suffix = f".{queue}.msg"
        return sorted(
            name
            for name in os.listdir(self.data_folder_in)
            if not name.startswith(HIDDEN) and name.partition(".")[2] == suffix[1:]
        )

    def _claim(self, name: str) -> bytes | None:
        """Moves the message out of the queue folder and reads it; None if it is gone."""
        claimed = os.path.join(self.processed_folder, name)
        try:
            os.rename(os.path.join(self.data_folder_in, name), claimed)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ChannelError(f"Cannot take {name!r} from the queue") from exc
        try:
            with open(claimed, "rb") as file:
                payload = file.read()
            if not self.store_processed:
                os.unlink(claimed)
        except OSError as exc:
            raise ChannelError(f"Cannot read file {claimed!r} from queue.") from exc
        return payload

    def _purge(self, queue):
        self._listed.pop(queue, None)
        return super()._purge(queue)

    def get_table(self, exchange):
        try:
            with self._exchange_file(exchange).open("rb") as file:
                return [filesystem.exchange_queue_t(*q) for q in loads(file.read())]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open the table of exchange {exchange!r}") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._update_table(exchange, lambda queues: [binding] + [q for q in queues if q != binding])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        super(filesystem.Channel, self)._delete(queue, exchange, routing_key, pattern)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._update_table(exchange, lambda queues: [q for q in queues if q != binding])

    def _update_table(self, exchange, change) -> None:
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        lock_path = file.with_name(f"{HIDDEN}{file.name}.lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # read, change and replace as one step
            write_atomically(str(file), dumps(change(self.get_table(exchange))).encode())


class Transport(filesystem.Transport):
    Channel = Channel
    global_state = filesystem.virtual.BrokerState()


def register() -> None:
    """Serves ``filesystem://`` broker URLs with this transport."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
