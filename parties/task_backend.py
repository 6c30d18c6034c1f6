"""The database queue (django-tasks-db) with one addition: each task's row keeps
the id of the request that queued it (`args_kwargs["request_id"]`, beside the
"args" and "kwargs" the worker calls the task with), so the worker's log line for
the task (`parties.queue`) names the request that caused it. It costs no query:
the key is written with the row. Imports no model (backends load before the apps
are ready); overrides django-tasks-db 0.13's `_task_to_db_task`."""

from typing import Any

from django_tasks_db import DatabaseBackend as BaseDatabaseBackend
from django_tasks_db.compat import normalize_json

from dinnerparty.middleware import request_id_var


class DatabaseBackend(BaseDatabaseBackend):
    def _task_to_db_task(self, task, args, kwargs) -> Any:
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.create(
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
