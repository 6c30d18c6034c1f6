"""bench.cpu: whose CPU is whose."""

import os
import subprocess
import sys
import time

import pytest

from bench.cpu import SERVER, Process, database_of, mark, others_cpu, ours, split


@pytest.mark.parametrize(
    ("title", "database"),
    [
        ("postgres: 15/main: postgres bench_db 127.0.0.1(34736) idle", "bench_db"),
        ("postgres: postgres wt_views [local] SELECT", "wt_views"),
        ("postgres: 15/main: app test ::1(5000) idle in transaction", "test"),
        ("postgres: 15/main: checkpointer ", None),
        ("postgres: 15/main: autovacuum worker other_db", "other_db"),
        ("postgres: 15/main: autovacuum launcher", None),
    ],
)
def test_a_backend_is_told_by_its_database(title, database):
    assert database_of(title) == database


def test_the_harness_and_what_it_started_are_ours_and_nothing_else():
    me = os.getpid()

    def process(parent: int, name: str) -> Process:
        return Process(parent, name, ticks=0, children_ticks=0, started=0)

    table = {
        me: process(1, "python"),
        50001: process(me, "gunicorn"),
        50002: process(50001, "gunicorn"),  # a worker
        50003: process(1, "pytest"),  # someone else's tests
        50004: process(50003, "python"),
        50005: process(2, "kworker/0:1"),
    }

    assert ours(table, "bench_db") >= {me, 50001, 50002, 50005}
    assert not ours(table, "bench_db") & {50003, 50004}


@pytest.mark.slow
def test_a_process_outside_the_harness_counts_as_others_even_once_it_has_ended():
    """What a test suite beside the benchmark looks like: processes of their own,
    not the harness's children, that start and end within a window."""
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass"
    # The middle process exits at once, so the burner is nobody's child of ours.
    orphan = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {burn!r}])"
    since, began = mark(), time.monotonic()
    subprocess.run([sys.executable, "-c", orphan], check=True)  # noqa: S603
    time.sleep(1.5)  # the burner's half second of CPU, and its exit

    cpu_seconds = others_cpu(since) * (time.monotonic() - began)

    assert cpu_seconds >= 0.4


@pytest.mark.slow
def test_the_harness_own_cpu_is_counted_as_ours():
    since = mark()
    t = time.process_time()
    while time.process_time() - t < 0.3:  # the harness itself at work
        pass

    used = split(since)

    assert used.ours >= 0.25
    assert used.server == 0  # the harness is not the server


@pytest.mark.slow
def test_the_servers_own_cpu_is_told_apart_by_its_process_name():
    """A running process of ours named as gunicorn's processes are (its workers
    too) counts as the server's as well as ours."""
    burner = (
        "import pathlib, sys, time\n"
        f"pathlib.Path('/proc/self/comm').write_text({SERVER!r})\n"
        "t = time.process_time()\n"
        "while time.process_time() - t < 0.4: pass\n"
        "print('done', flush=True)\n"
        "sys.stdin.read()\n"
    )
    since = mark()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", burner], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout.readline() == "done\n"
        used = split(since)
    finally:
        server.communicate("")

    assert used.server >= 0.3
    assert used.ours >= used.server
