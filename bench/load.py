"""Driving wrk: the request lists it rotates through, its runs, and who else used the CPU."""

import contextlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.config import CONNECTIONS, LUA, THREADS


def processes() -> dict[int, tuple[int, str, int, int]]:
    """Every process now: pid -> (parent pid, command name, CPU ticks used so far,
    start time: a pid used again is another process)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            found[int(stat.parent.name)] = (
                int(fields[1]),
                name,
                int(fields[11]) + int(fields[12]),
                int(fields[19]),
            )
    return found


def others_cpu(before: dict[int, tuple[int, str, int, int]], seconds: float) -> float:
    """CPU (in cores) that other processes used since `before`: not this harness or
    anything it started (gunicorn, wrk), and not the database server. Whatever else
    runs beside a benchmark (tests, a browser) takes CPU from the server and from
    wrk alike, but not evenly. (The 1-minute load average cannot tell: it stays
    high for a minute after the benchmark's own runs.)"""
    after = processes()
    ours = {os.getpid()} | {pid for pid, (_, name, *_) in after.items() if name == "postgres"}
    for pid in after:
        ancestor = pid
        for _ in range(64):  # up through its parents, to us or to the top
            if ancestor in ours or ancestor not in after:
                break
            ancestor = after[ancestor][0]
        if ancestor in ours:
            ours.add(pid)
    used = 0
    for pid, (_parent, _name, ticks, started) in after.items():
        if pid not in ours:
            previous = before.get(pid)
            used += ticks - previous[2] if previous and previous[3] == started else ticks
    return used / os.sysconf("SC_CLK_TCK") / max(seconds, 1e-6)


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
