"""Progress lines: each phase with the time it took and the time since the start."""

import contextlib
import time
from collections.abc import Iterator


class Clock:
    """Prints each phase with the time it took and the time since the start."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.phases: list[dict] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        say(f"[{self.elapsed():6.1f}s] {name} …")
        began = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - began
            self.phases.append({"phase": name, "seconds": round(took, 2)})
            say(f"[{self.elapsed():6.1f}s] {name}: {took:.1f}s")


def say(text: str) -> None:
    print(text, flush=True)
