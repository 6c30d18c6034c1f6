"""The benchmark's databases: SQLite under var/bench/, PostgreSQL in a database of its own
(`<the database in DATABASE_URL>_bench`, on the same server)."""

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

from bench.clock import say
from bench.config import PG_BENCH_SUFFIX, VAR


@dataclass
class Database:
    name: str
    url: str
    admin_url: str = ""  # PostgreSQL: where CREATE/DROP DATABASE is run
    redis_url: str = ""  # the production set-up: cache, sessions and throttles in Redis

    def create(self) -> None:
        if self.name == "sqlite":
            self.drop()
            return
        from psycopg import sql

        with self.admin() as conn:
            name = sql.Identifier(self.db_name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def drop(self) -> None:
        if self.name == "sqlite":
            path = Path(urllib.parse.urlparse(self.url).path)
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        from psycopg import sql

        with self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.db_name)
                )
            )

    def settle(self) -> None:
        """Write out what seeding left in memory before anything is measured, so
        that flushing it (PostgreSQL's checkpointer, the kernel's writeback of
        a SQLite file) does not share the cores with the load runs. The load
        runs' own writes and checkpoints still count."""
        if self.name != "sqlite":
            from psycopg import Error

            try:
                with self.admin() as conn:
                    conn.execute("CHECKPOINT")
            except Error as error:  # CHECKPOINT needs a superuser or pg_checkpoint
                say(f"    CHECKPOINT refused ({error}); the seed's writes may overlap the runs")
        os.sync()

    def admin(self) -> "psycopg.Connection":
        """A connection for CREATE/DROP DATABASE and CHECKPOINT: to the database
        DATABASE_URL names, or to the server's `postgres` database when that one
        does not exist (it is only needed for its server)."""
        import psycopg

        try:
            return psycopg.connect(self.admin_url, autocommit=True)
        except psycopg.OperationalError:
            parts = urllib.parse.urlparse(self.admin_url)
            fallback = urllib.parse.urlunparse(parts._replace(path="/postgres"))
            return psycopg.connect(fallback, autocommit=True)

    @property
    def db_name(self) -> str:
        return urllib.parse.urlparse(self.url).path.lstrip("/")


def databases(wanted: list[str]) -> list[Database]:
    found = [Database("sqlite", f"sqlite:///{VAR / 'bench.sqlite3'}")]
    given = os.environ.get("DATABASE_URL", "")
    if given.startswith(("postgres://", "postgresql://")):
        # A database of its own, named after yours, so that the benchmarks of two
        # checkouts sharing a server (DATABASE_URL …/wt_a and …/wt_b) never drop
        # each other's.
        parts = urllib.parse.urlparse(given)
        name = parts.path.lstrip("/") or "dinnerparty"
        bench_url = urllib.parse.urlunparse(parts._replace(path=f"/{name}{PG_BENCH_SUFFIX}"))
        found.append(Database("postgres", bench_url, admin_url=given))
        redis_url = os.environ.get("REDIS_URL", "")
        if redis_url:
            # As `make serve` runs in production. bench.prepare clears the cache
            # (this Redis database) before each size is measured.
            found.append(
                Database("postgres+redis", bench_url, admin_url=given, redis_url=redis_url)
            )
        elif "postgres+redis" in wanted:
            say("bench: PostgreSQL + Redis skipped: REDIS_URL is not set")
    elif "postgres" in wanted:
        say("bench: PostgreSQL skipped: DATABASE_URL does not point at one")
    return [db for db in found if db.name in wanted]
