"""The database queue (django-tasks-db) with two changes:

- each task's row keeps the id of the request that queued it
  (`args_kwargs["request_id"]`, beside the "args" and "kwargs" the worker calls
  the task with), so the worker's log line for the task (`parties.queue`) names
  the request that caused it. It costs no query: the key is written with the row;
- the row is written by a compiled INSERT (`parties.queries.QUEUED_TASK`; plain
  `save()` with COMPILED_QUERIES=0), and `enqueue` builds the task's result once
  where django-tasks-db builds it twice: a reply queues its emails in its own
  transaction, and these were a fifth of its time in process.

Imports no model at import time (backends load before the apps are ready);
overrides django-tasks-db 0.13's `_task_to_db_task` and `enqueue`."""

from typing import Any

from django.tasks import TaskResult
from django.tasks.signals import task_enqueued
from django_tasks_db import DatabaseBackend as BaseDatabaseBackend
from django_tasks_db.compat import normalize_json

from dinnerparty.middleware import request_id_var


class DatabaseBackend(BaseDatabaseBackend):
    def _task_to_db_task(self, task, args, kwargs) -> Any:
        from django_tasks_db.models import DBTaskResult

        from parties.queries import QUEUED_TASK

        row = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json(
                {"args": args, "kwargs": kwargs, "request_id": request_id_var.get()}
            ),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )
        QUEUED_TASK.insert(row)
        return row

    def enqueue(self, task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        result = self._task_to_db_task(task, args, kwargs).task_result
        task_enqueued.send(type(self), task_result=result)
        return result
