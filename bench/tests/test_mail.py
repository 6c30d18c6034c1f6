"""bench.mail: the worker throughput figure, on a small queue."""

import pytest

from bench.mail import measure


@pytest.mark.slow
def test_the_worker_throughput_run_sends_every_queued_email_and_reports_its_figures(tmp_path):
    # A database of the test's own: suites running at once must not share one.
    result = measure(
        emails=20,
        database_url=f"sqlite:///{tmp_path / 'mail.sqlite3'}",
        worker_env={"TASK_WORKER_PROCESSES": "2"},  # as `manage.py worker` would run
    )

    assert result["processes"] == 2
    assert result["sent"] == 20  # each once, whichever process sent it
    assert result["emails_per_second"] > 0
    assert result["seconds"] <= result["total_seconds"]
    assert 20 < result["worker_peak_rss_mb"] < 500
    assert result["worker_cpu_seconds"] > 0
    assert result["met"] == (result["emails_per_second"] >= result["target_per_second"])


@pytest.mark.slow
def test_the_worker_with_its_speed_ups_switched_off_sends_every_queued_email_too(tmp_path):
    from bench.mail import SWITCHED_OFF

    result = measure(
        emails=10, database_url=f"sqlite:///{tmp_path / 'mail.sqlite3'}", worker_env=SWITCHED_OFF
    )

    assert result["processes"] == 1
    assert result["sent"] == 10
