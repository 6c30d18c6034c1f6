"""What the reliability runs rely on in ops/harness.py: a PostgreSQL server of
their own that can be restarted, and the server log's errors read back."""

import os
import subprocess

import pytest

from ops.harness import VAR, PrivateCluster, Server, postgres_bin


def postgres_programs_or_skip() -> None:
    try:
        postgres_bin()
    except SystemExit:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")


def answers(cluster: PrivateCluster) -> bool:
    import psycopg

    try:
        with psycopg.connect(f"{cluster.server}/postgres", connect_timeout=2) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


@pytest.mark.slow
def test_a_private_postgres_server_is_made_restarted_and_removed():
    postgres_programs_or_skip()
    cluster = PrivateCluster(home=VAR / f"postgres-test-{os.getpid()}")
    try:
        cluster.start()
        assert answers(cluster)

        cluster.stop()
        assert not answers(cluster)

        cluster.start()
        assert answers(cluster)
    finally:
        cluster.remove()

    assert not cluster.home.exists()
    assert not answers(cluster)


@pytest.mark.slow
def test_starting_a_running_private_server_again_changes_nothing():
    postgres_programs_or_skip()
    cluster = PrivateCluster(home=VAR / f"postgres-test-again-{os.getpid()}")
    try:
        cluster.start()
        cluster.start()

        assert answers(cluster)
    finally:
        cluster.remove()


def test_the_postgres_programs_can_be_named_by_ops_pg_bin(monkeypatch, tmp_path):
    monkeypatch.setenv("OPS_PG_BIN", str(tmp_path))

    assert postgres_bin() == tmp_path


def test_a_missing_postgres_says_what_to_install(monkeypatch):
    monkeypatch.delenv("OPS_PG_BIN", raising=False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("glob.glob", lambda pattern: [])

    with pytest.raises(SystemExit, match="install the Debian package postgresql"):
        postgres_bin()


LOG = """\
[2026-12-06 03:10:23 +0000] [17730] [INFO] Starting gunicorn 27.0.1
time=03:10:24 level=ERROR logger=dinnerparty.storage request_id=- msg=not in the manifest
time=03:10:33 level=WARNING logger=dinnerparty.views request_id=a msg=Database unavailable
time=03:10:34 level=ERROR logger=django.request request_id=b msg=Internal Server Error: /x\\nTrace
"""


def test_only_django_request_errors_after_the_offset_are_read_back(tmp_path):
    server = Server({}, 1, name="test")
    server.log = tmp_path / "web.log"
    server.log.write_text(LOG)
    before = server.log_offset()
    with server.log.open("a") as log:
        log.write("time=… level=ERROR logger=django.request request_id=c msg=Later: /y\n")

    assert [line.split("msg=")[1] for line in server.request_errors_since(0)] == [
        "Internal Server Error: /x\\nTrace",
        "Later: /y",
    ]
    assert [line.split("msg=")[1] for line in server.request_errors_since(before)] == ["Later: /y"]


def test_a_log_not_written_yet_has_offset_zero(tmp_path):
    server = Server({}, 1, name="test")
    server.log = tmp_path / "missing.log"

    assert server.log_offset() == 0


def test_the_private_server_runs_as_postgres_when_we_are_root(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setenv("OPS_PG_BIN", str(tmp_path))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: seen.append(command) or None)

    PrivateCluster(port=1, home=tmp_path)._run("pg_ctl", "status")

    assert seen == [["runuser", "-u", "postgres", "--", str(tmp_path / "pg_ctl"), "status"]]
