"""Querysets turned into SQL once per process, then run with each request's values.

Django's ORM rebuilds and recompiles a queryset on every request. For the party
list that is about 1.5 ms of Python (two EXISTS subqueries for who may see a
party, two more for the viewer's reply), while SQLite or PostgreSQL answer the
SQL itself in about 0.1 ms; a lookup by key with `select_related` takes ~0.4 ms
to compile and ~0.05 ms to run. These classes build a queryset once with
stand-in values for its inputs, keep the SQL Django wrote, and run it with the
real values. The rules stay written once, in the ORM; only the compiling is
skipped:

- `PreparedQuery`: a `values()` queryset for a viewer and a time, as dicts (the
  list, the landing page, the party page's access check);
- `PreparedObjects`: model instances, loaded as the ORM loads them (the session,
  the user, the party under its lock, a guest's reply, the waitlist);
- `PreparedUpdate` / `PreparedDelete`: `update()` and `delete()` with int inputs
  (seats and version; potluck claims given back);
- `PreparedSave`: `save()` of a row that exists (a guest's reply).
"""

import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model, QuerySet, signals, sql
from django.db.models.deletion import Collector
from django.db.models.query import get_related_populators

from accounts.models import User

# Values no real request has, so they can be found among the compiled parameters.
STAND_IN_USER_PK = -7_654_321
STAND_IN_NOW = datetime(2001, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)
STAND_IN_INT = -7_654_000  # minus the parameter's position
STAND_IN_STR = "\x1fstand-in:{}\x1f"


def _stand_in(params: dict[str, int | str], name: str) -> int | str:
    """The value a parameter is compiled with, unique to it (found again by value)."""
    position = list(params).index(name)
    if isinstance(params[name], int):
        return STAND_IN_INT - position
    return STAND_IN_STR.format(name)


def _slots(params: list, by_value: dict[Any, str], given: Any) -> list[str | None]:
    """Which input each compiled SQL parameter is (None: a constant of the query)."""
    slots = [by_value.get(value) for value in params]
    missing = set(given) - set(slots)
    if missing:
        raise ImproperlyConfigured(f"The prepared query ignores {sorted(missing)}.")
    return slots


def _fill(params: list, slots: list[str | None], real: dict[str, Any]) -> list:
    """The compiled parameters with each input's slot given its real value."""
    return [
        value if slot is None else real[slot] for value, slot in zip(params, slots, strict=True)
    ]


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

    def _compile(self, using: str, viewer_kind: str, given: tuple[str, ...], shape: tuple) -> tuple:
        key = (using, viewer_kind, given, shape)
        if key not in self._compiled:
            if len(self._compiled) >= self.MAX_SHAPES:
                self._compiled.clear()
            stand_ins = {
                name: _stand_in(self.params, name) if name in given else type(example)()
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
            slots = _slots(params, by_value, given)
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
        return sql, _fill(values, slots, real), names

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


class PreparedObjects:
    """`get(**params)` / `all(**params)`: the model instances a queryset finds
    (with the rows its `select_related()` joins), loaded as the ORM loads them, by
    SQL compiled once per process.

    For the few lookups that every reply or page view repeats: compiling one with
    `select_related` takes the ORM ~0.4 ms, running it ~0.05 ms. `build(**params)`
    returns the queryset; `params` name its inputs with an example value (int or
    str), as for `PreparedQuery`. Instances are made as `ModelIterable` makes
    them (converters, `from_db`, related populators, fetch mode), so they behave
    exactly like the ORM's; querysets with annotations or known related objects
    are refused."""

    def __init__(self, build: Callable[..., QuerySet], **params: int | str) -> None:
        self.build = build
        self.params = params
        self._compiled: dict[tuple[str, bool], _CompiledObjects] = {}

    def _compile(self, using: str, *, for_get: bool) -> "_CompiledObjects":
        key = (using, for_get)
        if key not in self._compiled:
            stand_ins = {name: _stand_in(self.params, name) for name in self.params}
            queryset = self.build(**stand_ins)
            if queryset.query.annotation_select or queryset._known_related_objects:
                raise ImproperlyConfigured("Prepared objects are plain model rows only.")
            if for_get:  # as QuerySet.get(): enough rows to tell one from many
                queryset = queryset[:2]
            self._compiled[key] = _CompiledObjects(queryset, using, stand_ins)
        return self._compiled[key]

    def _check(self, params: dict) -> None:
        if set(params) != set(self.params):
            raise TypeError(f"Prepared objects take {sorted(self.params)}, got {sorted(params)}.")

    def get(self, *, using: str | None = None, **params: int | str) -> Model:
        """The instance, or the model's DoesNotExist (MultipleObjectsReturned if
        the queryset finds more than one), as `QuerySet.get()` raises them."""
        self._check(params)
        compiled = self._compile(using or DEFAULT_DB_ALIAS, for_get=True)
        found = compiled.load(params)
        model = compiled.model
        if not found:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        if len(found) > 1:
            raise model.MultipleObjectsReturned(
                f"get() returned more than one {model._meta.object_name}."
            )
        return found[0]

    def all(self, *, using: str | None = None, **params: int | str) -> list[Model]:
        """Every instance the queryset finds, in its order."""
        self._check(params)
        return self._compile(using or DEFAULT_DB_ALIAS, for_get=False).load(params)


class _CompiledObjects:
    def __init__(self, queryset: QuerySet, using: str, stand_ins: dict[str, int | str]) -> None:
        self.model = queryset.model
        self.using = using
        self.compiler = queryset.query.get_compiler(using)
        self.sql, params = self.compiler.as_sql()  # also fills select and klass_info
        self.params = list(params)
        self.slots = _slots(
            self.params, {value: name for name, value in stand_ins.items()}, stand_ins
        )
        features = connections[using].features
        self.for_update = queryset.query.select_for_update and features.has_select_for_update
        self.fetch_mode = queryset._fetch_mode
        select, klass_info = self.compiler.select, self.compiler.klass_info
        fields = klass_info["select_fields"]
        self.model_cols = slice(fields[0], fields[-1] + 1)
        self.init_list = [column[0].target.attname for column in select[self.model_cols]]
        self.related = get_related_populators(klass_info, select, using, self.fetch_mode)
        # What results_iter() works out on every call, worked out once.
        columns = [column[0] for column in select[0 : self.compiler.col_count]]
        if self.compiler.has_composite_fields(columns):
            raise ImproperlyConfigured("Prepared objects can't load composite keys.")
        self.converters = self.compiler.get_converters(columns)

    def load(self, values: dict[str, int | str]) -> list[Model]:
        connection = connections[self.using]
        if self.for_update and connection.get_autocommit():  # as the ORM checks it
            raise transaction.TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with connection.cursor() as cursor:
            cursor.execute(self.sql, _fill(self.params, self.slots, values))
            rows = cursor.fetchall()
        if not rows:
            return []
        instances, peers = [], []
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        for row in rows:
            instance = self.model.from_db(
                self.using, self.init_list, row[self.model_cols], fetch_mode=self.fetch_mode
            )
            if self.fetch_mode.track_peers:
                peers.append(weakref.ref(instance))
                instance._state.peers = peers
            for populator in self.related:
                populator.populate(row, instance)
            instances.append(instance)
        return instances


class _PreparedWrite:
    """A write with int inputs, compiled once per process (see the subclasses)."""

    kind = "write"

    def __init__(self, build: Callable[..., Any], **params: int) -> None:
        if not all(isinstance(example, int) for example in params.values()):
            raise ImproperlyConfigured(f"A prepared {self.kind} takes int inputs only.")
        self.build = build
        self.params = params
        self._compiled: dict[str, tuple[str, list, list[str | None]]] = {}

    def _sql(self, built: Any, using: str) -> tuple[str, tuple]:
        raise NotImplementedError

    def _compile(self, using: str) -> tuple[str, list, list[str | None]]:
        if using not in self._compiled:
            stand_ins = {name: _stand_in(self.params, name) for name in self.params}
            statement, params = self._sql(self.build(**stand_ins), using)
            by_value = {value: name for name, value in stand_ins.items()}
            self._compiled[using] = (statement, list(params), _slots(params, by_value, stand_ins))
        return self._compiled[using]

    def run(self, *, using: str | None = None, **params: int) -> int:
        """Run it with these inputs; the number of rows it changed."""
        if set(params) != set(self.params):
            raise TypeError(
                f"A prepared {self.kind} takes {sorted(self.params)}, got {sorted(params)}."
            )
        using = using or DEFAULT_DB_ALIAS
        statement, values, slots = self._compile(using)
        values = _fill(values, slots, {name: int(value) for name, value in params.items()})
        with (
            transaction.mark_for_rollback_on_error(using),  # as QuerySet.update() and delete()
            connections[using].cursor() as cursor,
        ):
            cursor.execute(statement, values)
            return cursor.rowcount


class PreparedUpdate(_PreparedWrite):
    """`run(**params)`: `queryset.update(**changes)` for `build(**params)` =
    (queryset, changes). For the counters every reply moves
    (`F("seats_taken") + delta`): inputs reach the SQL as ints, unconverted."""

    kind = "update"

    def _sql(self, built: tuple[QuerySet, dict[str, Any]], using: str) -> tuple[str, tuple]:
        queryset, changes = built
        query = queryset.query.chain(sql.UpdateQuery)
        query.add_update_values(changes)
        if query.related_updates:
            raise ImproperlyConfigured("A prepared update changes one table only.")
        return query.get_compiler(using).as_sql()


class PreparedDelete(_PreparedWrite):
    """`run(**params)`: `build(**params).delete()`, for a model Django deletes with
    one DELETE (no cascades, no delete signals: checked when compiled)."""

    kind = "delete"

    def _sql(self, built: QuerySet, using: str) -> tuple[str, tuple]:
        if not Collector(using=using, origin=built).can_fast_delete(built):
            raise ImproperlyConfigured("A prepared delete can't cascade or send signals.")
        query = built.query.clone()
        query.__class__ = sql.DeleteQuery  # as QuerySet._raw_delete()
        return query.get_compiler(using).as_sql()


class PreparedSave:
    """`save(instance)`: `instance.save()` for a row that exists, by an UPDATE of
    every column compiled once per process (the ORM spent ~0.2 ms compiling a
    reply's UPDATE each time). Values go through each field's `pre_save` and
    `get_db_prep_save`, as `Model.save()` sends them. Plain `save()` is used
    instead when the model has save signals or the row is gone (save() then
    inserts it); models with parents or special placeholders are refused."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.fields = [
            field
            for field in model._meta.local_concrete_fields
            if not field.primary_key and not field.generated
        ]
        if model._meta.parents or any(
            getattr(field, "get_placeholder_sql", None) for field in self.fields
        ):
            raise ImproperlyConfigured("A prepared save needs plain columns on one table.")
        self._compiled: dict[str, tuple[str, list, list[str | None]]] = {}

    def _compile(self, using: str) -> tuple[str, list, list[str | None]]:
        if using not in self._compiled:
            pk = STAND_IN_INT
            query = self.model._base_manager.filter(pk=pk).query.chain(sql.UpdateQuery)
            query.add_update_fields([(field, None, None) for field in self.fields])
            statement, params = query.get_compiler(using).as_sql()
            # One parameter per column, in order (no field here has its own
            # placeholder), then the WHERE clause's.
            where = list(params)[len(self.fields) :]
            slots = _slots(where, {pk: "pk"}, ["pk"])
            self._compiled[using] = (statement, where, slots)
        return self._compiled[using]

    def save(self, instance: Model, *, using: str | None = None) -> None:
        using = using or DEFAULT_DB_ALIAS
        if (
            instance._state.adding
            or instance.pk is None
            or signals.pre_save.has_listeners(self.model)
            or signals.post_save.has_listeners(self.model)
        ):
            instance.save(using=using)
            return
        connection = connections[using]
        statement, where, slots = self._compile(using)
        values = [
            field.get_db_prep_save(field.pre_save(instance, False), connection=connection)
            for field in self.fields
        ]
        values += _fill(where, slots, {"pk": instance.pk})
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(statement, values)
            updated = cursor.rowcount
        if not updated:  # gone meanwhile: save() inserts it again, as it would have
            instance.save(using=using)
            return
        instance._state.db = using
