import pytest

from accounts.tests.factories import UserFactory
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for, worker_for_tests


@pytest.fixture
def host(db):
    return UserFactory(username="ana", first_name="Ana", timezone="Europe/Paris")


@pytest.fixture
def guest(db):
    return UserFactory(username="ben", first_name="Ben")


@pytest.fixture
def party(host):
    return DinnerPartyFactory(host=host, title="Paella night", seats=4)


@pytest.fixture
def host_client(host):
    return client_for(host)


@pytest.fixture
def guest_client(guest):
    return client_for(guest)


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run what's inside as if its transaction committed (so emails are sent)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def task_queue(settings):
    """The database queue, as `make run` and production have it: tasks wait in
    the database until a worker (`run_worker`) runs them."""
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["database"]}}


@pytest.fixture(params=[20, 1], ids=["batch-claim", "library-loop"])
def run_worker(request, task_queue, monkeypatch, settings):
    """Run every task that is due, as `manage.py task_worker --batch` would (in the
    test's transaction: the worker's connection checks would close it): with
    tasks claimed 20 at a time (`parties.worker.BatchWorker`, the default), and
    with django-tasks-db's own loop (`TASK_WORKER_CLAIM=1`)."""
    from django_tasks_db.management.commands import db_worker

    from parties import worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    settings.TASK_WORKER_CLAIM = request.param

    def run() -> None:
        worker_for_tests().run()

    return run
