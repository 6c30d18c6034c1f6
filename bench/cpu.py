"""How much CPU processes other than the benchmark's own took during a window.

Whatever else runs beside a benchmark (tests, a browser, another database's
backends) takes CPU from the server and from wrk alike, but not evenly, and a
login run is held to the CPU the benchmark had (bench.hashlimit). (The 1-minute
load average cannot tell: it stays high for a minute after the benchmark's own
runs.)

All the machine's busy time comes from /proc/stat, so the processes that
started and ended within the window (a test suite's subprocesses) count too;
the benchmark's own is added up process by process, the harness's with the
children it waited for (wrk's runs, gunicorn's recycled workers). Others = busy −
ours.
"""

import contextlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")

# A PostgreSQL backend's process title: "postgres: [cluster: ]user database host(port) …",
# or an autovacuum worker's: "postgres: [cluster: ]autovacuum worker database".
BACKEND = re.compile(
    r"^postgres: (?:\S+: )?(?:autovacuum worker (\S+)|\S+ (\S+) (?:\S+\(\d+\)|\[local\]))"
)


@dataclass(frozen=True)
class Process:
    parent: int
    name: str
    ticks: int  # CPU used so far (user and system)
    children_ticks: int  # CPU of the children it waited for
    started: int  # a pid used again is another process


def processes() -> dict[int, Process]:
    """Every process now, by pid."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            found[int(stat.parent.name)] = Process(
                parent=int(fields[1]),
                name=name,
                ticks=int(fields[11]) + int(fields[12]),
                children_ticks=int(fields[13]) + int(fields[14]),
                started=int(fields[19]),
            )
    return found


def busy_ticks() -> int:
    """Ticks all CPUs spent on anything but idling (or waiting for I/O) since boot,
    time stolen by the hypervisor included."""
    with Path("/proc/stat").open() as stat:
        fields = [int(f) for f in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal


def postgres_database(pid: int) -> str | None:
    """The database a PostgreSQL backend (or autovacuum worker) serves; None for the
    server's own processes."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, UnicodeDecodeError):
        return None
    return database_of(title)


def database_of(title: str) -> str | None:
    """The database a PostgreSQL process title names (see BACKEND)."""
    found = BACKEND.match(title)
    return (found.group(1) or found.group(2)) if found else None


def ours(found: dict[int, Process], database: str) -> set[int]:
    """The benchmark's processes: this harness and what it started (gunicorn, wrk),
    the database server's own processes and its backends serving `database`, and
    the kernel's threads (they work for everyone, the loopback network included)."""
    return descendants(found) | {
        pid
        for pid, process in found.items()
        if process.name == "postgres" and postgres_database(pid) in (None, database)
    }


def descendants(found: dict[int, Process]) -> set[int]:
    """This harness and every process under it; the kernel's threads."""
    mine = {os.getpid(), 2}  # 2: kthreadd, the parent of every kernel thread
    for pid in found:
        chain, ancestor = [], pid
        for _ in range(64):  # up through its parents, to us or to the top
            if ancestor in mine or ancestor not in found:
                break
            chain.append(ancestor)
            ancestor = found[ancestor].parent
        if ancestor in mine:
            mine.update(chain)
    return mine


@dataclass(frozen=True)
class Mark:
    at: float
    busy: int
    processes: dict[int, Process]


def mark() -> Mark:
    return Mark(time.monotonic(), busy_ticks(), processes())


def others_cpu(since: Mark, database: str = "") -> float:
    """CPU (in cores) that processes other than the benchmark's (`ours`) used
    since `since`."""
    return split(since, database).others


@dataclass(frozen=True)
class Usage:
    """CPU used during a window: the benchmark's processes' (`ours`, seconds), of
    which the web server's own (`server`, seconds: gunicorn and its workers), and
    other processes' (`others`, in cores)."""

    ours: float
    server: float
    others: float


SERVER = "gunicorn"  # the process name of the server and its workers


def split(since: Mark, database: str = "") -> Usage:
    """The CPU the benchmark's processes (`ours`: the server, its database's
    backends, wrk, the kernel's threads) and the server alone used since `since`,
    and the CPU (in cores) that other processes used meanwhile. The children a
    process of ours waited for count as ours only under the harness (wrk's runs,
    recycled workers): the database server's children include other databases'
    backends."""
    now = mark()
    under_us = descendants(now.processes)
    used = server = 0
    for pid in ours(now.processes, database):
        process, previous = now.processes[pid], since.processes.get(pid)
        if previous is None or previous.started != process.started:
            previous = Process(process.parent, process.name, 0, 0, process.started)
        ticks = process.ticks - previous.ticks
        if pid in under_us:
            ticks += process.children_ticks - previous.children_ticks
        used += ticks
        if process.name == SERVER:
            server += ticks
    others = max(now.busy - since.busy - used, 0)
    return Usage(used / TICKS, server / TICKS, others / TICKS / max(now.at - since.at, 1e-6))
