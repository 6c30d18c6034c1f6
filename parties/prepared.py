"""Querysets turned into SQL once per process, then run with each request's values.

Django's ORM rebuilds and recompiles a queryset on every request. For the party
list that is about 1.5 ms of Python (two EXISTS subqueries for who may see a
party, two more for the viewer's reply), while SQLite or PostgreSQL answer the
SQL itself in about 0.1 ms. A `PreparedQuery` builds its queryset once with
stand-in values for the viewer and the time, keeps the SQL Django wrote, and
runs it with the real values. The rules stay written once, in the ORM
(`DinnerPartyQuerySet`); only the compiling is skipped.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from accounts.models import User

# Values no real request has, so they can be found among the compiled parameters.
STAND_IN_USER_PK = -7_654_321
STAND_IN_NOW = datetime(2001, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)

Build = Callable[[User, datetime], QuerySet]


class PreparedQuery:
    """`build(viewer, now)` returns a `.values(...)` queryset without a slice;
    `rows(...)` returns its rows as dicts, `limit` rows from `offset`.

    Values come back as the database driver gives them (SQLite returns times as
    text): they are meant for cache keys and ids, not for display."""

    def __init__(self, build: Build) -> None:
        self.build = build
        self._compiled: dict[tuple[str, bool], tuple[str, list, list[str | None], list[str]]] = {}

    def _compile(self, using: str, superuser: bool) -> tuple[str, list, list[str | None], list]:
        key = (using, superuser)
        if key not in self._compiled:
            stand_in = User(pk=STAND_IN_USER_PK, is_superuser=superuser)
            queryset = self.build(stand_in, STAND_IN_NOW)
            query = queryset.query
            sql, params = query.get_compiler(using).as_sql()
            now_param = connections[using].ops.adapt_datetimefield_value(STAND_IN_NOW)
            slots: list[str | None] = []
            for value in params:
                if value == STAND_IN_USER_PK:
                    slots.append("user")
                elif value in (now_param, STAND_IN_NOW):
                    slots.append("now")
                else:
                    slots.append(None)
            if "now" not in slots:
                raise ImproperlyConfigured("A prepared query must depend on the time it runs at.")
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
            self._compiled[key] = (sql, list(params), slots, names)
        return self._compiled[key]

    def rows(
        self, *, viewer: Any, now: datetime, limit: int, offset: int = 0, using: str | None = None
    ) -> list[dict]:
        using = using or DEFAULT_DB_ALIAS
        superuser = bool(getattr(viewer, "is_superuser", False))
        sql, params, slots, names = self._compile(using, superuser)
        now_param = connections[using].ops.adapt_datetimefield_value(now)
        values = [
            viewer.pk if slot == "user" else now_param if slot == "now" else value
            for value, slot in zip(params, slots, strict=True)
        ]
        with connections[using].cursor() as cursor:
            cursor.execute(f"{sql} LIMIT %s OFFSET %s", [*values, limit, offset])
            if len(cursor.description) != len(names):
                raise ImproperlyConfigured("A prepared query's columns did not match its names.")
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
