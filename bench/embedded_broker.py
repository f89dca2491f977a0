"""Embedded broker benchmark: publisher processes and consumer processes on one broker folder.

    python bench/embedded_broker.py [--publishers 4] [--messages 2000] [--consumers 2]

runs kombu's own filesystem transport and Segapp's (segapp/embedded_broker.py) in turn and prints,
for each, the messages consumed, lost, consumed twice, the read errors, and the publish and consume
rates. Publishers and consumers run at the same time, as the web process and the worker do.
"""

import argparse
import multiprocessing
import queue
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TRANSPORTS = {
    "kombu": "kombu.transport.filesystem:Transport",
    "segapp": "segapp.embedded_broker:Transport",
}
QUEUE = "bench"


@dataclass
class Result:
    sent: int
    consumed: list[int]
    errors: list[str]
    publish_seconds: float
    consume_seconds: float

    @property
    def lost(self) -> int:
        return len(set(range(self.sent)) - set(self.consumed))

    @property
    def duplicates(self) -> int:
        return len(self.consumed) - len(set(self.consumed))

    def summary(self) -> str:
        return (
            f"{len(self.consumed)}/{self.sent} consumed, {self.lost} lost, "
            f"{self.duplicates} twice, {len(self.errors)} read errors; "
            f"publish {self.sent / self.publish_seconds:.0f}/s, "
            f"consume {len(self.consumed) / self.consume_seconds:.0f}/s"
        )


def _connection(transport: str, folder: Path):
    from kombu import Connection

    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(exist_ok=True)
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    return Connection(transport=transport, transport_options=options)


def _publish(transport, folder, first, count, seconds):
    with _connection(transport, folder) as connection, connection.SimpleQueue(QUEUE) as simple:
        started = time.monotonic()
        for n in range(first, first + count):
            simple.put({"n": n, "padding": "x" * 400})
        seconds.put(time.monotonic() - started)


def _consume(transport, folder, done, results):
    consumed, errors = [], []
    idle_since = None
    with _connection(transport, folder) as connection, connection.SimpleQueue(QUEUE) as simple:
        while True:
            try:
                message = simple.get(timeout=0.05)
            except queue.Empty:
                if not done.is_set():
                    continue
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 1.0:
                    break
                continue
            except Exception as error:  # the failure being measured, e.g. JSONDecodeError
                errors.append(f"{type(error).__name__}: {error}")
                continue
            idle_since = None
            consumed.append(message.payload["n"])
            message.ack()
            last = time.monotonic()
    results.put((consumed, errors, last if consumed else time.monotonic()))


def exchange(transport: str, publishers=4, messages=2000, consumers=2) -> Result:
    """Sends ``publishers`` x ``messages`` messages while ``consumers`` take them."""
    context = multiprocessing.get_context("spawn")
    seconds, results, done = context.Queue(), context.Queue(), context.Event()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _connection(transport, folder).close()
        readers = [
            context.Process(target=_consume, args=(transport, folder, done, results))
            for _ in range(consumers)
        ]
        writers = [
            context.Process(
                target=_publish, args=(transport, folder, i * messages, messages, seconds)
            )
            for i in range(publishers)
        ]
        for process in readers:
            process.start()
        time.sleep(1.0)  # consumers are polling before the first message is sent
        started = time.monotonic()
        for process in writers:
            process.start()
        publish_seconds = max(seconds.get(timeout=300) for _ in writers)
        done.set()
        consumed, errors, last = [], [], started
        for _ in readers:
            c, e, at = results.get(timeout=300)
            consumed, errors, last = consumed + c, errors + e, max(last, at)
        for process in writers + readers:
            process.join(30)
    return Result(publishers * messages, consumed, errors, publish_seconds, last - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--messages", type=int, default=2000, help="per publisher")
    parser.add_argument("--consumers", type=int, default=2)
    args = parser.parse_args()
    for name, transport in TRANSPORTS.items():
        result = exchange(transport, args.publishers, args.messages, args.consumers)
        print(f"{name:7} {result.summary()}")
        for error in sorted(set(result.errors))[:3]:
            print(f"        {error}")


if __name__ == "__main__":
    main()
