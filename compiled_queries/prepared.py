"""Querysets compiled to SQL once per process: a reply 12.2 -> 7.8 ms, the list 6.1 -> 2.2 ms.

(Worker time per request in process, SQLite, the layer off and on alternating
in one run, 2026-12-05; PostgreSQL 27.6 -> 15.8 and 17.4 -> 6.1 ms; `make bench`
measures it over HTTP: docs/performance.md.) Django builds and compiles each of
a reply's statements afresh (0.1-0.4 ms each) while the database answers it in
~0.05 ms; here only the compiling is skipped, the rules stay in the ORM.

How it stays honest:

- **Inputs are declared** (`pk=int`, `key=str`; a query on the time or a
  viewer takes `now` and `viewer`). The queryset is built once with each input
  as an `Input` expression, which compiles to a parameter that names its input.
  Nothing is found again by value: using an input it wasn't given, deriving a
  Python value from one (`now - timedelta(days=1)`, `viewer.username`,
  `f"{token}"`) fails when the query is compiled, with a message saying so.
- **Values are prepared as the ORM prepares them**: each through its field's
  `get_db_prep_value`, after the ORM's range checks: an id or offset outside
  the column's range, or a text with a NUL byte (which no stored text here
  holds), finds no rows instead of raising.
- **A switch turns it off**: with `settings.COMPILED_QUERIES = False`
  (`COMPILED_QUERIES=0`) every statement runs the plain queryset it was built
  from, with the same checks. CI runs the suite both ways.
- **It is tied to the Django it was tested on** (`check_django_version`, run at
  start-up): loading model instances from compiled SQL repeats what
  `ModelIterable` does with Django's private helpers, so another minor version
  must be tested before it is used.

The kinds:

- `PreparedQuery`: a `values()` queryset for a viewer and a time, as dicts;
- `PreparedObjects`: model instances, loaded as the ORM loads them;
- `PreparedUpdate` / `PreparedDelete`: `update()` and `delete()`;
- `PreparedSave`: `save()` of a row that exists;
- `PreparedInsert`: `save(force_insert=True)` of a new row with its key set.
"""

import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

import django
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    DateTimeField,
    Expression,
    Field,
    Model,
    QuerySet,
    signals,
    sql,
)
from django.db.models.deletion import Collector
from django.db.models.query import get_related_populators

# The Django minor versions whose private helpers this module was tested with.
TESTED_DJANGO = {(6, 1)}


def check_django_version(version: tuple = django.VERSION) -> None:
    """Refuse to start on a Django this layer has not been tested with."""
    if enabled() and tuple(version[:2]) not in TESTED_DJANGO:
        tested = ", ".join(f"{major}.{minor}" for major, minor in sorted(TESTED_DJANGO))
        raise ImproperlyConfigured(
            f"compiled_queries was tested with Django {tested}, not "
            f"{version[0]}.{version[1]}. Run with COMPILED_QUERIES=0 (plain ORM, same "
            "results) until it is tested on this version, or use Django "
            f"{tested}."
        )


def enabled() -> bool:
    return getattr(settings, "COMPILED_QUERIES", True)


# --- Inputs ----------------------------------------------------------------------

# The field each declared type's values go through, as the ORM would send them.
FIELDS: dict[type, Field] = {int: BigIntegerField(), str: CharField(), datetime: DateTimeField()}


class NoRows(Exception):
    """An input no row can match (out of its column's range, or a NUL byte)."""


class Slot:
    """The parameter an input fills, named: compiled SQL's parameters hold these
    where the inputs go. Never a value; any attempt to use it as one fails."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __deepcopy__(self, memo: dict) -> "Slot":
        return self

    def _refuse(self, *_args: Any) -> Any:
        raise ImproperlyConfigured(
            f"The compiled query turns its input {self.name!r} into a constant in Python: "
            "compare or compute with it in SQL (an ORM lookup or expression) instead."
        )

    __str__ = __format__ = __int__ = __float__ = __index__ = __len__ = __iter__ = _refuse

    def __repr__(self) -> str:
        return f"<input {self.name}>"


class Input(Expression):
    """A declared input of a compiled query, as an ORM expression: lookups and
    expressions take it as they take a value (`filter(pk=pk)`,
    `F("seats") + seats`); it compiles to a parameter that names it. Python
    arithmetic on it, which would freeze a value into the SQL, is refused."""

    def __init__(self, name: str, kind: type) -> None:
        super().__init__(output_field=FIELDS[kind])
        self.name = name
        self.kind = kind

    def __repr__(self) -> str:
        return f"Input({self.name!r})"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        return "%s", [Slot(self.name)]

    def __str__(self) -> str:
        return Slot(self.name)._refuse()

    def __format__(self, spec: str) -> str:
        return Slot(self.name)._refuse()

    def _combine(self, other: Any, connector: str, reversed: bool) -> Any:
        if not hasattr(other, "resolve_expression"):
            Slot(self.name)._refuse()
        return super()._combine(other, connector, reversed)


class ViewerInput:
    """The viewer a `PreparedQuery` is built for: a logged-in member (or a
    superuser) whose only input is their id. Reading anything else of them
    (`viewer.username`) would freeze one person's value into the SQL: refused."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, *, is_superuser: bool) -> None:
        self.pk = self.id = Input("viewer", int)
        self.is_superuser = is_superuser

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in {"resolve_expression", "as_sql"}:
            raise AttributeError(name)  # (Django asking whether it is an expression)
        raise ImproperlyConfigured(
            f"The compiled query reads viewer.{name}; only viewer.pk is one of its inputs. "
            "Declare what else it needs as an input."
        )


def declared(kinds: dict[str, type]) -> dict[str, type]:
    for name, kind in kinds.items():
        if kind not in FIELDS:
            raise ImproperlyConfigured(
                f"Input {name!r} is declared as {kind!r}; inputs are int, str or datetime."
            )
    return kinds


def checked(kinds: dict[str, type], given: dict[str, Any]) -> None:
    """The call gives exactly the declared inputs."""
    if set(given) != set(kinds):
        raise TypeError(f"This compiled query takes {sorted(kinds)}, got {sorted(given)}.")


def prepare(value: Any, kind: type, connection: Any) -> Any:
    """`value` as the ORM sends it for a field of this kind; NoRows where the ORM
    finds none (an int outside the column's range) or the database can't be
    asked (a NUL byte in text)."""
    if kind is int:
        value = int(value)
        low, high = connection.ops.integer_field_range("BigIntegerField")
        if not low <= value <= high:
            raise NoRows
    elif kind is str:
        if not isinstance(value, str):
            raise TypeError(f"Expected text, got {type(value).__name__}.")
        if "\x00" in value:
            raise NoRows
    return FIELDS[kind].get_db_prep_value(value, connection, prepared=False)


def fill(params: list, values: dict[str, Any]) -> list:
    """The compiled parameters, each `Slot` given its input's prepared value."""
    return [values[param.name] if isinstance(param, Slot) else param for param in params]


def slots_of(params: list, expected: set[str]) -> None:
    """Every input the query was given is used in its SQL."""
    unused = expected - {param.name for param in params if isinstance(param, Slot)}
    if unused:
        raise ImproperlyConfigured(f"The compiled query ignores its inputs {sorted(unused)}.")


# --- Rows for a viewer ---------------------------------------------------------


class PreparedQuery:
    """`rows(viewer=, now=, **shape, **inputs)`: the rows of the `values()`
    queryset `build(viewer, now, **shape, **inputs)` returns, as dicts.

    `inputs` are declared by type (`pk=int`, `invite_token=str`). A false
    value (0, "") is passed to `build` as it is, so a queryset may take another
    shape without it (an invite token adds a condition only when there is one);
    each combination is compiled once. `shape` names int inputs that Django
    writes into the SQL itself (a page's LIMIT and OFFSET): each value is
    compiled once, and at most MAX_SHAPES are kept.

    Compiled, values come back as the database driver gives them (SQLite gives
    times as text): they are meant for ids, flags and cache keys."""

    MAX_SHAPES = 256

    def __init__(
        self, build: Callable[..., QuerySet], *, shape: tuple[str, ...] = (), **inputs: type
    ) -> None:
        self.build = build
        self.shape = shape
        self.inputs = declared(inputs)
        self._compiled: dict[tuple, tuple[str, list, list[str]]] = {}

    @staticmethod
    def _kind(viewer: Any) -> str:
        """A visitor who is not logged in has no id: their SQL has no conditions on
        it (a constant-free query keeps one plan). Superusers see every party."""
        if not getattr(viewer, "is_authenticated", False):
            return "anonymous"
        return "superuser" if viewer.is_superuser else "member"

    def _compile(self, using: str, viewer_kind: str, given: tuple[str, ...], shape: tuple):
        key = (using, viewer_kind, given, shape)
        if key not in self._compiled:
            if len(self._compiled) >= self.MAX_SHAPES:
                self._compiled.clear()
            inputs = {
                name: Input(name, kind) if name in given else kind()
                for name, kind in self.inputs.items()
            }
            viewer = (
                AnonymousUser()
                if viewer_kind == "anonymous"
                else ViewerInput(is_superuser=viewer_kind == "superuser")
            )
            shaped = dict(zip(self.shape, shape, strict=True))
            query = self.build(viewer, Input("now", datetime), **shaped, **inputs).query
            compiler = query.get_compiler(using)
            statement, params = compiler.as_sql()
            slots_of(list(params), set(given))
            # The columns' names in the order the SQL selects them (values() keeps
            # the order it was given, fields and annotations mixed).
            names = [alias for _expression, _sql, alias in compiler.select]
            self._compiled[key] = (statement, list(params), names)
        return self._compiled[key]

    def _statement(
        self, viewer: Any, now: datetime | None, using: str, given: dict
    ) -> tuple[str, list, list[str]]:
        connection = connections[using]
        shape = tuple(int(given[name]) for name in self.shape)
        names_given = tuple(name for name in self.inputs if given[name])
        statement, params, names = self._compile(using, self._kind(viewer), names_given, shape)
        if now is None and any(isinstance(p, Slot) and p.name == "now" for p in params):
            raise TypeError("This compiled query needs the time it runs at (now=).")
        values = {name: prepare(given[name], self.inputs[name], connection) for name in names_given}
        values["viewer"] = getattr(viewer, "pk", None)
        values["now"] = prepare(now, datetime, connection) if now is not None else None
        return statement, fill(params, values), names

    def _check(self, kwargs: dict, using: str) -> None:
        if set(kwargs) != {*self.shape, *self.inputs}:
            raise TypeError(
                f"This compiled query takes {sorted([*self.shape, *self.inputs])}, "
                f"got {sorted(kwargs)}."
            )
        connection = connections[using]
        for name in self.shape:
            if int(kwargs[name]) < 0:
                raise NoRows
            prepare(kwargs[name], int, connection)

    def rows(
        self,
        *,
        viewer: Any,
        now: datetime | None = None,
        using: str | None = None,
        **kwargs: int | str,
    ) -> list[dict]:
        using = using or DEFAULT_DB_ALIAS
        try:
            self._check(kwargs, using)
            if not enabled():
                for name, kind in self.inputs.items():
                    prepare(kwargs[name], kind, connections[using])
                return list(self.build(viewer, now, **kwargs).using(using))
            statement, values, names = self._statement(viewer, now, using, kwargs)
        except NoRows:
            return []
        with connections[using].cursor() as cursor:
            cursor.execute(statement, values)
            if len(cursor.description) != len(names):
                raise ImproperlyConfigured("A compiled query's columns did not match its names.")
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def explain(
        self,
        *,
        viewer: Any,
        now: datetime | None = None,
        using: str | None = None,
        **kwargs: int | str,
    ) -> str:
        """The database's plan for the compiled `rows(...)` with these values."""
        using = using or DEFAULT_DB_ALIAS
        self._check(kwargs, using)
        statement, values, _names = self._statement(viewer, now, using, kwargs)
        prefix = "EXPLAIN QUERY PLAN" if connections[using].vendor == "sqlite" else "EXPLAIN"
        with connections[using].cursor() as cursor:
            cursor.execute(f"{prefix} {statement}", values)
            return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


# --- Model instances ---------------------------------------------------------


class PreparedObjects:
    """`get(**inputs)` / `all(**inputs)`: the model instances `build(**inputs)`
    finds (with the rows its `select_related()` joins), as `QuerySet.get()` and
    `list(queryset)` give them. Compiled, instances are made as `ModelIterable`
    makes them (converters, `from_db`, related populators, fetch mode, each
    annotation set on its instance); querysets with known related objects are
    refused."""

    def __init__(self, build: Callable[..., QuerySet], **inputs: type) -> None:
        self.build = build
        self.inputs = declared(inputs)
        self._compiled: dict[tuple[str, bool], _CompiledObjects] = {}

    def _compile(self, using: str, *, for_get: bool) -> "_CompiledObjects":
        key = (using, for_get)
        if key not in self._compiled:
            queryset = self.build(**{name: Input(name, kind) for name, kind in self.inputs.items()})
            if queryset._known_related_objects:
                raise ImproperlyConfigured("Compiled objects can't know related objects.")
            if for_get:  # as QuerySet.get(): enough rows to tell one from many
                queryset = queryset[:2]
            self._compiled[key] = _CompiledObjects(queryset, using, set(self.inputs))
        return self._compiled[key]

    def _load(self, using: str | None, inputs: dict, *, for_get: bool) -> list[Model]:
        checked(self.inputs, inputs)
        using = using or DEFAULT_DB_ALIAS
        connection = connections[using]
        try:
            values = {name: prepare(inputs[name], self.inputs[name], connection) for name in inputs}
        except NoRows:
            return []
        if not enabled():
            queryset = self.build(**inputs).using(using)
            return list(queryset[:2] if for_get else queryset)
        return self._compile(using, for_get=for_get).load(values)

    def get(self, *, using: str | None = None, **inputs: int | str) -> Model:
        """The instance, or the model's DoesNotExist (MultipleObjectsReturned if
        the queryset finds more than one), as `QuerySet.get()` raises them."""
        found = self._load(using, inputs, for_get=True)
        if len(found) != 1:
            model = self._model()
            if not found:
                raise model.DoesNotExist(
                    f"{model._meta.object_name} matching query does not exist."
                )
            raise model.MultipleObjectsReturned(
                f"get() returned more than one {model._meta.object_name}."
            )
        return found[0]

    def first(self, *, using: str | None = None, **inputs: int | str) -> Model | None:
        """The instance, or None."""
        found = self._load(using, inputs, for_get=True)
        return found[0] if found else None

    def all(self, *, using: str | None = None, **inputs: int | str) -> list[Model]:
        """Every instance the queryset finds, in its order."""
        return self._load(using, inputs, for_get=False)

    def _model(self) -> type[Model]:
        """The model it loads (built with plain values: nothing is compiled)."""
        return self.build(**{name: kind() for name, kind in self.inputs.items()}).model


class _CompiledObjects:
    def __init__(self, queryset: QuerySet, using: str, inputs: set[str]) -> None:
        self.model = queryset.model
        self.using = using
        self.compiler = queryset.query.get_compiler(using)
        self.sql, params = self.compiler.as_sql()  # also fills select and klass_info
        self.params = list(params)
        slots_of(self.params, inputs)
        features = connections[using].features
        self.for_update = queryset.query.select_for_update and features.has_select_for_update
        self.fetch_mode = queryset._fetch_mode
        select, klass_info = self.compiler.select, self.compiler.klass_info
        fields = klass_info["select_fields"]
        self.model_cols = slice(fields[0], fields[-1] + 1)
        self.init_list = [column[0].target.attname for column in select[self.model_cols]]
        self.related = get_related_populators(klass_info, select, using, self.fetch_mode)
        self.annotations = list(self.compiler.annotation_col_map.items())
        # What results_iter() works out on every call, worked out once.
        columns = [column[0] for column in select[0 : self.compiler.col_count]]
        if self.compiler.has_composite_fields(columns):
            raise ImproperlyConfigured("Compiled objects can't load composite keys.")
        self.converters = self.compiler.get_converters(columns)

    def load(self, values: dict[str, Any]) -> list[Model]:
        connection = connections[self.using]
        if self.for_update and connection.get_autocommit():  # as the ORM checks it
            raise transaction.TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with connection.cursor() as cursor:
            cursor.execute(self.sql, fill(self.params, values))
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
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances


# --- Writes ------------------------------------------------------------------


class _PreparedWrite:
    """A write with int inputs, compiled once per process (see the subclasses)."""

    kind = "write"

    def __init__(self, build: Callable[..., Any], **inputs: type) -> None:
        if any(kind is not int for kind in inputs.values()):
            raise ImproperlyConfigured(f"A compiled {self.kind} takes int inputs only.")
        self.build = build
        self.inputs = declared(inputs)
        self._compiled: dict[str, tuple[str, list]] = {}

    def _sql(self, built: Any, using: str) -> tuple[str, tuple]:
        raise NotImplementedError

    def _orm(self, built: Any, using: str) -> int:
        raise NotImplementedError

    def _compile(self, using: str) -> tuple[str, list]:
        if using not in self._compiled:
            built = self.build(**{name: Input(name, int) for name in self.inputs})
            statement, params = self._sql(built, using)
            slots_of(list(params), set(self.inputs))
            self._compiled[using] = (statement, list(params))
        return self._compiled[using]

    def run(self, *, using: str | None = None, **inputs: int) -> int:
        """Run it with these inputs; the number of rows it changed."""
        checked(self.inputs, inputs)
        using = using or DEFAULT_DB_ALIAS
        connection = connections[using]
        try:
            values = {name: prepare(value, int, connection) for name, value in inputs.items()}
        except NoRows:
            return 0
        if not enabled():
            return self._orm(self.build(**inputs), using)
        statement, params = self._compile(using)
        with (
            transaction.mark_for_rollback_on_error(using),  # as QuerySet.update() and delete()
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, fill(params, values))
            return cursor.rowcount


class PreparedUpdate(_PreparedWrite):
    """`run(**inputs)`: `queryset.update(**changes)` for `build(**inputs)` =
    (queryset, changes), e.g. counters moved by `F("seats_taken") + seats`."""

    kind = "update"

    def _sql(self, built: tuple[QuerySet, dict[str, Any]], using: str) -> tuple[str, tuple]:
        queryset, changes = built
        query = queryset.query.chain(sql.UpdateQuery)
        query.add_update_values(changes)
        if query.related_updates:
            raise ImproperlyConfigured("A compiled update changes one table only.")
        return query.get_compiler(using).as_sql()

    def _orm(self, built: tuple[QuerySet, dict[str, Any]], using: str) -> int:
        queryset, changes = built
        return queryset.using(using).update(**changes)


class PreparedDelete(_PreparedWrite):
    """`run(**inputs)`: `build(**inputs).delete()`, for a model Django deletes
    with one DELETE (no cascades, no delete signals: checked when compiled)."""

    kind = "delete"

    def _sql(self, built: QuerySet, using: str) -> tuple[str, tuple]:
        if not Collector(using=using, origin=built).can_fast_delete(built):
            raise ImproperlyConfigured("A compiled delete can't cascade or send signals.")
        query = built.query.clone()
        query.__class__ = sql.DeleteQuery  # as QuerySet._raw_delete()
        return query.get_compiler(using).as_sql()

    def _orm(self, built: QuerySet, using: str) -> int:
        deleted, _by_model = built.using(using).delete()
        return deleted


class PreparedSave:
    """`save(instance)`: `instance.save()` for a row that exists, by an UPDATE of
    every column compiled once per process. Values go through each field's
    `pre_save` and `get_db_prep_save`, as `Model.save()` sends them. Plain
    `save()` is used instead when the model has save signals, the row is gone
    (save() then inserts it) or the layer is off; models with parents or
    special placeholders are refused."""

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
            raise ImproperlyConfigured("A compiled save needs plain columns on one table.")
        self._compiled: dict[str, tuple[str, list]] = {}

    def _compile(self, using: str) -> tuple[str, list]:
        if using not in self._compiled:
            query = self.model._base_manager.filter(pk=Input("pk", int)).query.chain(
                sql.UpdateQuery
            )
            query.add_update_fields([(field, None, None) for field in self.fields])
            statement, params = query.get_compiler(using).as_sql()
            # One parameter per column, in order (no field here has its own
            # placeholder), then the WHERE clause's.
            where = list(params)[len(self.fields) :]
            slots_of(where, {"pk"})
            self._compiled[using] = (statement, where)
        return self._compiled[using]

    def save(self, instance: Model, *, using: str | None = None) -> None:
        using = using or DEFAULT_DB_ALIAS
        if (
            not enabled()
            or instance._state.adding
            or instance.pk is None
            or signals.pre_save.has_listeners(self.model)
            or signals.post_save.has_listeners(self.model)
        ):
            instance.save(using=using)
            return
        connection = connections[using]
        statement, where = self._compile(using)
        values = [
            field.get_db_prep_save(field.pre_save(instance, False), connection=connection)
            for field in self.fields
        ]
        values += fill(where, {"pk": prepare(instance.pk, int, connection)})
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(statement, values)
            updated = cursor.rowcount
        if not updated:  # gone meanwhile: save() inserts it again, as it would have
            instance.save(using=using)
            return
        instance._state.db = using


class PreparedInsert:
    """`insert(instance)`: `instance.save(force_insert=True)` for a new row, by an
    INSERT of every column compiled once per process. As `Model.save()` does:
    `pre_save` is sent first (its receivers may still set values), values go
    through each field's `pre_save(add=True)` and `get_db_prep_save`, then
    `post_save` is sent with `created=True`. A row whose key is set (a UUID, say)
    is inserted with it; one whose automatic key is not yet set gets it back from
    the INSERT itself (`RETURNING`, where the database has it, as `save()` does).
    Plain `save()` is used instead when the layer is off or the database returns
    no columns from an insert; models with parents, special placeholders or
    columns the database fills (`db_default`, `db_returning`) are refused."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.fields = [field for field in model._meta.local_concrete_fields if not field.generated]
        pk = model._meta.pk
        if (
            model._meta.parents
            or any(getattr(field, "get_placeholder_sql", None) for field in self.fields)
            or any(
                field is not pk and (field.has_db_default() or field.db_returning)
                for field in self.fields
            )
        ):
            raise ImproperlyConfigured("A compiled insert needs plain columns on one table.")
        # Without its key: the columns an insert that returns the automatic key sends.
        self.auto_fields = [field for field in self.fields if field is not pk]
        self.auto_key = getattr(pk, "db_returning", False)  # an AutoField: the database draws it
        self._compiled: dict[tuple[str, bool], tuple[str, tuple]] = {}

    def _compile(self, using: str, *, returning: bool = False) -> tuple[str, tuple]:
        key = (using, returning)
        if key not in self._compiled:
            # Compiled with a blank instance: only the statement is kept, each
            # column's value is one parameter (no field here has its own placeholder).
            fields = self.auto_fields if returning else self.fields
            query = sql.InsertQuery(self.model)
            query.insert_values(fields, [self.model()])
            compiler = query.get_compiler(using)
            if returning:
                compiler.returning_fields = [self.model._meta.pk]
            [(statement, params)] = compiler.as_sql()
            extra = tuple(compiler.returning_params) if returning else ()
            if len(params) != len(fields) + len(extra):
                raise ImproperlyConfigured("A compiled insert takes one value per column.")
            self._compiled[key] = (statement, extra)
        return self._compiled[key]

    def insert(self, instance: Model, *, using: str | None = None) -> None:
        using = using or DEFAULT_DB_ALIAS
        connection = connections[using]
        returning = instance.pk is None
        if (
            not enabled()
            or (returning and not self.auto_key)
            or (returning and not connection.features.can_return_columns_from_insert)
        ):
            instance.save(force_insert=True, using=using)
            return
        statement, returning_params = self._compile(using, returning=returning)
        sent = {"sender": self.model, "instance": instance, "raw": False, "using": using}
        signals.pre_save.send(**sent, update_fields=None)
        values = [
            field.get_db_prep_save(field.pre_save(instance, True), connection=connection)
            for field in (self.auto_fields if returning else self.fields)
        ]
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(statement, [*values, *returning_params])
            if returning:
                [(key,)] = connection.ops.fetch_returned_rows(cursor, returning_params)
                setattr(instance, self.model._meta.pk.attname, key)
        instance._state.adding = False
        instance._state.db = using
        signals.post_save.send(**sent, created=True, update_fields=None)
