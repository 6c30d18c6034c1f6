"""A real SMTP server (aiosmtpd) in the test process, for tests about delivery:
it can stall on the first message, or answer every message after a delay."""

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class SinkHandler:
    """Accepts every message, after `delay` seconds; with `stall_on=n`, the n-th
    message's DATA is never answered (the server hangs, as a stuck one does) and
    `stalled` is set when it arrives. `accepted` lists each accepted message's
    recipients."""

    def __init__(self, *, delay: float = 0.0, stall_on: int | None = None):
        self.delay = delay
        self.stall_on = stall_on
        self.received = 0
        self.stalled = threading.Event()
        self.accepted: list[list[str]] = []
        self.peers: list[tuple] = []  # the client's address for each message accepted
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.received += 1
        if self.received == self.stall_on:
            self.stalled.set()
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.accepted.append(list(envelope.rcpt_tos))
            self.peers.append(tuple(session.peer))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_sink(handler: SinkHandler, port: int = 0) -> Iterator[int]:
    """Serve `handler` on 127.0.0.1 (`port`, or a free one) for the block; yields
    the port."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def smtp_mailers(port: int, *, timeout: float = 10) -> dict:
    """`MAILERS` that send to the sink on `port`."""
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": timeout},
        }
    }
