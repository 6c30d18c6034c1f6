"""Figures from wrk windows, alone or in pairs. Pure: windows in, figures out.

An endpoint is not measured in one long run against a ceiling measured minutes
before it: its windows alternate with the ceiling's (or, for the compiled-query
comparison, with the same endpoint on a server with the layer off), a couple
of seconds each, and each pair gives one ratio. A change in the shared
machine's speed lasting more than a few seconds weighs on both windows of a
pair alike and cancels in its ratio; what moves faster than that moves one
pair, and the median of the pairs leaves it out. The spread (min–max) says how
much the pairs disagreed.

What pairing cannot cancel is another process on this machine taking a core
(bench.cpu measures it in every window): when that happens, only the quiet pairs
count (`paired`), and bench.run runs a few more pairs while too few are quiet.
"""

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass

QUIET_OTHERS = 0.25  # of a core: CPU other processes may take in a quiet window
MIN_QUIET = 3  # quiet pairs needed for the median to be taken over them alone


@dataclass(frozen=True)
class Window:
    """One wrk run, and the CPU other processes took while it ran (in cores)."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int = 0
    first_error: str = ""
    others_cpu: float = 0.0
    cpu_s: float = 0.0  # CPU seconds the server, its database and wrk used (bench.cpu)
    server_cpu_s: float = 0.0  # of which the server's own (gunicorn and its workers)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:
        return self.cpu_s / self.requests if self.requests and self.cpu_s else 0.0

    @property
    def server_cpu_per_request(self) -> float:
        return self.server_cpu_s / self.requests if self.requests and self.server_cpu_s else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "rps": round(self.rps, 1)}


def figures(windows: list[Window]) -> dict:
    """One endpoint's windows as one result: medians of req/s and latency, and
    p99 ÷ p50 as the median of each window's own (a neighbour's burst that slows
    one window does not make the endpoint's tail)."""
    if not windows:
        raise ValueError("no windows")
    return {
        "windows": len(windows),
        "requests": sum(w.requests for w in windows),
        "rps": round(statistics.median(w.rps for w in windows), 1),
        "p50_ms": round(statistics.median(w.p50_ms for w in windows), 2),
        "p99_ms": round(statistics.median(w.p99_ms for w in windows), 2),
        "p99_over_p50": round(
            statistics.median(w.p99_ms / w.p50_ms if w.p50_ms else float("inf") for w in windows),
            2,
        ),
        "max_ms": max(w.max_ms for w in windows),
        "errors": sum(w.errors for w in windows),
        "first_error": next((w.first_error for w in windows if w.first_error), ""),
        "others_cpu": round(max(w.others_cpu for w in windows), 3),
    }


def quiet(windows: tuple[Window, ...]) -> bool:
    """Whether other processes left every window of a round (nearly) alone."""
    return all(w.others_cpu <= QUIET_OTHERS for w in windows)


def quiet_rounds(rounds: list[tuple[Window, ...]]) -> int:
    return sum(quiet(r) for r in rounds)


def paired(
    pairs: list[tuple[Window, Window]], rounds: list[tuple[Window, ...]] | None = None
) -> dict:
    """The second window of each pair against the first, by req/s: the median
    ratio and its spread (min–max), with each pair's ratio. Beside it, the same by
    CPU time per request (`cpu_ratio`, the first window's CPU per request over the
    second's): what the ratio would be if neither side ever waited with a core
    idle (for the database's disk, say), and if nothing but the benchmark ran;
    and by the server's own CPU time per request (`server_ratio`: the workers',
    without the database's and wrk's), what it would be with the database on a
    machine of its own.

    Pairs whose round (`rounds`, the pairs themselves by default) was quiet
    count, when there are at least MIN_QUIET of them; otherwise every pair does
    and the result says it was disturbed. Another process that takes a core
    does not slow both windows of a pair alike: it hurts an endpoint that waits
    on the database many times per request (each wake-up waits for a core) far
    more than the ceiling, so a pair it overlapped says little."""
    if not pairs:
        raise ValueError("no pairs")
    rounds = rounds if rounds is not None else pairs
    ratios = [b.rps / a.rps if a.rps else 0.0 for a, b in pairs]
    calm = [i for i, r in enumerate(rounds) if quiet(r)]
    used = calm if len(calm) >= MIN_QUIET else list(range(len(pairs)))
    counted = [ratios[i] for i in used]
    by_cpu = cost_ratios(pairs, lambda w: w.cpu_per_request)
    by_server = cost_ratios(pairs, lambda w: w.server_cpu_per_request)
    return {
        **spread("ratio", counted),
        "ratios": [round(r, 4) for r in ratios],
        **spread("cpu_ratio", [by_cpu[i] for i in used if by_cpu[i]]),
        **spread("server_ratio", [by_server[i] for i in used if by_server[i]]),
        "used": used,
        "quiet_pairs": len(calm),
        "disturbed": len(calm) < MIN_QUIET,
        "others_cpu_max": round(max(w.others_cpu for r in rounds for w in r), 3),
    }


def cost_ratios(pairs: list[tuple[Window, Window]], cost: Callable[[Window], float]) -> list[float]:
    """Each pair's first window's `cost` per request over its second's (0 where
    either window has no figure)."""
    return [cost(a) / cost(b) if cost(a) and cost(b) else 0.0 for a, b in pairs]


def spread(name: str, values: list[float]) -> dict:
    """`name`, `name_min` and `name_max`: the median of `values` and its range
    (None for each when there are none)."""
    if not values:
        return {name: None, f"{name}_min": None, f"{name}_max": None}
    return {
        name: round(statistics.median(values), 4),
        f"{name}_min": round(min(values), 4),
        f"{name}_max": round(max(values), 4),
    }


def order(number: int, sides: int = 2) -> tuple[int, ...]:
    """Which side runs when in round number `number` (0, 1, …): first to last in
    even rounds, last to first in odd ones, so that a steady drift within a round
    does not always favour the same side, and each side's neighbours stay its
    neighbours (with three sides, A B C then C B A: B is always beside A and C)."""
    forward = tuple(range(sides))
    return forward if number % 2 == 0 else forward[::-1]
