"""Driving wrk: the request lists it rotates through, and its runs."""

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.config import CONNECTIONS, LUA, THREADS


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
