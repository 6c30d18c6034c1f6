"""Driving wrk: the requests it rotates through, its windows alone or alternating
in pairs, and the CPU other processes took meanwhile."""

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import cpu
from bench.config import CONNECTIONS, LUA, THREADS
from bench.pairing import Window, order


def lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


def write_spec(path: Path, expect: int, requests: list[Request]) -> None:
    lines = [f"return {{ expect = {expect}, threads = {THREADS}, requests = {{"]
    for r in requests:
        headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in r.headers.items())
        body = lua_string(r.body) if r.body is not None else "nil"
        lines.append(
            f"  {{ {lua_string(r.method)}, {lua_string(r.path)}, {{ {headers} }}, {body} }},"
        )
    lines.append("} }")
    path.write_text("\n".join(lines) + "\n")


def wrk(port: int, spec: Path, seconds: int, out: Path | None) -> dict:
    """One wrk run of `seconds` against 127.0.0.1:`port` rotating through `spec`:
    the figures rotate.lua prints (raw output in `out`)."""
    cmd = [
        shutil.which("wrk") or "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "15s",
        "--latency",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}",
        "--",
        str(spec),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    if out is not None:
        out.write_text(done.stdout + done.stderr)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk gave no result ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def window(stats: dict, others: float, ours: float = 0.0, server: float = 0.0) -> Window:
    """rotate.lua's figures as a Window: socket errors, timeouts, statuses ≥ 400
    and statuses other than the one expected all count as errors. `others`: the
    cores other processes took meanwhile; `ours`: the CPU seconds the benchmark's
    own processes used, `server` those of the server alone (bench.cpu.split)."""
    errors = sum(stats[k] for k in ("connect", "read", "write", "status", "timeout"))
    errors += stats["unexpected"]
    first = stats["first_unexpected"] or ("socket error or timeout" if errors else "")
    if stats["requests"] == 0:
        errors += 1
        first = first or "no request finished in time"
    return Window(
        requests=stats["requests"],
        seconds=stats["duration_us"] / 1e6,
        p50_ms=round(stats["p50_us"] / 1000, 2),
        p90_ms=round(stats["p90_us"] / 1000, 2),
        p99_ms=round(stats["p99_us"] / 1000, 2),
        max_ms=round(stats["max_us"] / 1000, 2),
        errors=errors,
        first_error=first,
        others_cpu=round(others, 3),
        cpu_s=round(ours, 3),
        server_cpu_s=round(server, 3),
    )


@dataclass(frozen=True)
class Side:
    """What one window runs: wrk against a server's port, rotating through a spec."""

    name: str  # for the raw output's file name
    port: int
    spec: Path
    drain: Callable[[], None]  # serve what wrk left queued before the next window
    # Writes `spec` afresh before each run (single-use requests: bench.endpoints.LinkPool).
    refresh: Callable[[], None] | None = None


def measure(side: Side, seconds: int, out: Path | None, database: str = "") -> Window:
    """One window: wrk for `seconds`, then the server drained."""
    if side.refresh is not None:
        side.refresh()
    since = cpu.mark()
    stats = wrk(side.port, side.spec, seconds, out)
    used = cpu.split(since, database)
    side.drain()
    return window(stats, used.others, used.ours, used.server)


def warm(side: Side, seconds: int) -> None:
    """An unrecorded run first: imports, caches, the database's buffers."""
    if seconds:
        if side.refresh is not None:
            side.refresh()
        wrk(side.port, side.spec, seconds, None)
        side.drain()


def alternate(
    sides: list[Side],
    *,
    rounds: int,
    seconds: int,
    raw: Path,
    database: str = "",
    first: int = 0,
) -> list[tuple[Window, ...]]:
    """`rounds` rounds of back-to-back windows of `seconds`, one per side, in the
    order pairing.order gives (numbered from `first`, to go on from earlier
    rounds); each round's windows in the order of `sides`. Raw wrk output goes
    to `raw`-<side>-<round>.txt."""
    found = []
    for number in range(first, first + rounds):
        got: dict[int, Window] = {}
        for index in order(number, len(sides)):
            side = sides[index]
            out = raw.with_name(f"{raw.name}-{side.name}-{number}.txt")
            got[index] = measure(side, seconds, out, database)
        found.append(tuple(got[index] for index in range(len(sides))))
    return found
