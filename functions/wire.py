"""Messages between a worker and its sandbox process: JSON objects, each after its length."""

import json
import socket
import struct

HEADER = struct.Struct(">I")


def send(channel: socket.socket, message: dict) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    channel.sendall(HEADER.pack(len(data)) + data)


def receive(channel: socket.socket) -> dict | None:
    """The next message, or None once the other end has gone."""
    header = _read(channel, HEADER.size)
    data = header and _read(channel, HEADER.unpack(header)[0])
    return None if data is None else json.loads(data)


def _read(channel: socket.socket, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = channel.recv(min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
