"""The benchmark's databases: SQLite under var/bench/, PostgreSQL in a database of its own."""

import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bench.clock import say
from bench.config import PG_BENCH_DB, VAR


@dataclass
class Database:
    name: str
    url: str
    admin_url: str = ""  # PostgreSQL: where CREATE/DROP DATABASE is run

    def create(self) -> None:
        if self.name == "sqlite":
            self.drop()
            return
        from psycopg import connect, sql

        with connect(self.admin_url, autocommit=True) as conn:
            name = sql.Identifier(self.db_name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def drop(self) -> None:
        if self.name == "sqlite":
            path = Path(urllib.parse.urlparse(self.url).path)
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        from psycopg import connect, sql

        with connect(self.admin_url, autocommit=True) as conn:
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
            from psycopg import Error, connect

            try:
                with connect(self.admin_url, autocommit=True) as conn:
                    conn.execute("CHECKPOINT")
            except Error as error:  # CHECKPOINT needs a superuser or pg_checkpoint
                say(f"    CHECKPOINT refused ({error}); the seed's writes may overlap the runs")
        os.sync()

    @property
    def db_name(self) -> str:
        return urllib.parse.urlparse(self.url).path.lstrip("/")


def databases(wanted: list[str]) -> list[Database]:
    found = [Database("sqlite", f"sqlite:///{VAR / 'bench.sqlite3'}")]
    given = os.environ.get("DATABASE_URL", "")
    if given.startswith(("postgres://", "postgresql://")):
        parts = urllib.parse.urlparse(given)
        bench_url = urllib.parse.urlunparse(parts._replace(path=f"/{PG_BENCH_DB}"))
        found.append(Database("postgres", bench_url, admin_url=given))
    elif "postgres" in wanted:
        say("bench: PostgreSQL skipped: DATABASE_URL does not point at one")
    return [db for db in found if db.name in wanted]
