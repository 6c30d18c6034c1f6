"""Querysets turned into SQL once per process, then run with each request's values.

Django's ORM rebuilds and recompiles a queryset on every request. For the party
list that is about 1.5 ms of Python (two EXISTS subqueries for who may see a
party, two more for the viewer's reply), while SQLite or PostgreSQL answer the
SQL itself in about 0.1 ms. A `PreparedQuery` builds its queryset once with
stand-in values for the viewer, the time and its other parameters, keeps the
SQL Django wrote, and runs it with the real values. The rules stay written
once, in the ORM (`DinnerPartyQuerySet`); only the compiling is skipped.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from accounts.models import User

# Values no real request has, so they can be found among the compiled parameters.
STAND_IN_USER_PK = -7_654_321
STAND_IN_NOW = datetime(2001, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)
STAND_IN_INT = -7_654_000  # minus the parameter's position
STAND_IN_STR = "\x1fstand-in:{}\x1f"


class PreparedQuery:
    """`build(viewer, now, **shape, **params)` returns a `.values(...)` queryset;
    `rows(viewer=, now=, **shape, **params)` returns its rows as dicts.

    `params` (names with an example value, for the type: int or str) are the
    query's inputs that become SQL parameters: compiled once, with stand-ins. A
    false value (0, "") is passed to `build` as it is, so a queryset may take a
    different shape without it (an invite token that adds a condition only
    when there is one). `shape` names inputs that change the SQL itself (a
    page's LIMIT and OFFSET, which Django writes into the SQL): each value is
    compiled once, and at most MAX_SHAPES of them are kept.

    Values come back as the database driver gives them (SQLite returns times as
    text): they are meant for ids, flags and cache keys, not for display."""

    MAX_SHAPES = 256

    def __init__(
        self, build: Callable[..., QuerySet], *, shape: tuple[str, ...] = (), **params: int | str
    ) -> None:
        self.build = build
        self.shape = shape
        self.params = params
        self._compiled: dict[tuple, tuple[str, list, list[str | None], list[str]]] = {}

    def _stand_in(self, name: str) -> int | str:
        position = list(self.params).index(name)
        if isinstance(self.params[name], int):
            return STAND_IN_INT - position
        return STAND_IN_STR.format(name)

    def _compile(self, using: str, viewer_kind: str, given: tuple[str, ...], shape: tuple) -> tuple:
        key = (using, viewer_kind, given, shape)
        if key not in self._compiled:
            if len(self._compiled) >= self.MAX_SHAPES:
                self._compiled.clear()
            stand_ins = {
                name: self._stand_in(name) if name in given else type(example)()
                for name, example in self.params.items()
            }
            viewer = (
                AnonymousUser()
                if viewer_kind == "anonymous"
                else User(pk=STAND_IN_USER_PK, is_superuser=viewer_kind == "superuser")
            )
            shaped = dict(zip(self.shape, shape, strict=True))
            query = self.build(viewer, STAND_IN_NOW, **shaped, **stand_ins).query
            compiler = query.get_compiler(using)
            sql, params = compiler.as_sql()
            now_param = connections[using].ops.adapt_datetimefield_value(STAND_IN_NOW)
            by_value: dict[Any, str] = {STAND_IN_USER_PK: "viewer", STAND_IN_NOW: "now"}
            by_value.update({stand_ins[name]: name for name in given})
            if isinstance(now_param, str):
                by_value[now_param] = "now"
            slots = [by_value.get(value) for value in params]
            missing = set(given) - set(slots)
            if missing:
                raise ImproperlyConfigured(f"The prepared query ignores {sorted(missing)}.")
            # The columns' names in the order the SQL selects them (values() keeps
            # the order it was given, fields and annotations mixed).
            names = [alias for _expression, _sql, alias in compiler.select]
            self._compiled[key] = (sql, list(params), slots, names)
        return self._compiled[key]

    @staticmethod
    def _kind(viewer: Any) -> str:
        """A visitor who is not logged in has no id: their SQL has no conditions on
        it (SQLite and PostgreSQL plan `guest_id = NULL` each time; a constant-free
        query can keep one plan). Superusers see every party: another query."""
        if not getattr(viewer, "is_authenticated", False):
            return "anonymous"
        return "superuser" if viewer.is_superuser else "member"

    def _statement(
        self, viewer: Any, now: datetime | None, using: str, kwargs: dict
    ) -> tuple[str, list, list[str]]:
        if set(kwargs) != {*self.shape, *self.params}:
            raise TypeError(
                f"A prepared query takes {sorted([*self.shape, *self.params])}, "
                f"got {sorted(kwargs)}."
            )
        shape = tuple(int(kwargs[name]) for name in self.shape)
        given = tuple(name for name in self.params if kwargs[name])
        sql, values, slots, names = self._compile(using, self._kind(viewer), given, shape)
        if now is None and "now" in slots:
            raise TypeError("This prepared query needs the time it runs at (now=).")
        real = {
            "viewer": getattr(viewer, "pk", None),
            "now": connections[using].ops.adapt_datetimefield_value(now),
            **kwargs,
        }
        values = [
            value if slot is None else real[slot] for value, slot in zip(values, slots, strict=True)
        ]
        return sql, values, names

    def rows(
        self,
        *,
        viewer: Any,
        now: datetime | None = None,
        using: str | None = None,
        **kwargs: int | str,
    ) -> list[dict]:
        using = using or DEFAULT_DB_ALIAS
        sql, values, names = self._statement(viewer, now, using, kwargs)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, values)
            if len(cursor.description) != len(names):
                raise ImproperlyConfigured("A prepared query's columns did not match its names.")
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def explain(
        self,
        *,
        viewer: Any,
        now: datetime | None = None,
        using: str | None = None,
        **kwargs: int | str,
    ) -> str:
        """The database's plan for `rows(...)` with these values (EXPLAIN)."""
        using = using or DEFAULT_DB_ALIAS
        sql, values, _names = self._statement(viewer, now, using, kwargs)
        prefix = "EXPLAIN QUERY PLAN" if connections[using].vendor == "sqlite" else "EXPLAIN"
        with connections[using].cursor() as cursor:
            cursor.execute(f"{prefix} {sql}", values)
            return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
