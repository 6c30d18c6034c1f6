"""`make backup` and `make restore FILE=…`: the database named by DATABASE_URL.

- SQLite: a consistent copy taken with SQLite's online backup API while the site
  keeps writing (`sqlite3.Connection.backup`), written as `<time>-sqlite.sqlite3`.
- PostgreSQL: `pg_dump -Fc` (a consistent snapshot, custom format), written as
  `<time>-<database>.pgdump`.

Backups go to `var/backups/` (BACKUP_DIR overrides), named by UTC time, so they
sort in the order they were taken. Restoring goes into an *empty* database only:
into one that has tables it stops with a message and changes nothing.

    python -m ops.backup                 # prints the file it wrote
    python -m ops.backup restore FILE    # into DATABASE_URL's (empty) database
"""

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"


class BackupError(Exception):
    """An operator's mistake or a failed tool: reported as one line, exit status 1."""


def database_config(url: str | None = None) -> dict:
    return dj_database_url.parse(url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)


def backup_dir() -> Path:
    return Path(os.environ.get("BACKUP_DIR") or BASE_DIR / "var" / "backups")


def is_sqlite(config: dict) -> bool:
    return config["ENGINE"] == "django.db.backends.sqlite3"


def pg_environment(config: dict) -> dict[str, str]:
    """libpq's variables for `config`, so no password is on a command line."""
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if config.get(key):
            env[variable] = str(config[key])
    return env


def backup(*, config: dict | None = None, directory: Path | None = None) -> Path:
    """Back up the database (`config`: Django's settings for it; default DATABASE_URL's)
    to a new timestamped file; returns its path."""
    config = config or database_config()
    directory = directory or backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    if is_sqlite(config):
        source_path = Path(config["NAME"])
        if not source_path.exists():
            raise BackupError(f"No SQLite database at {source_path}.")
        target = directory / f"{stamp}-sqlite.sqlite3"
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=20)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)  # pages copied while writers carry on (restarting if needed)
            # One self-contained file (no -wal beside it), whatever the source's mode.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
            source.close()
        return target
    target = directory / f"{stamp}-{config['NAME']}.pgdump"
    result = subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(target)],
        env=pg_environment(config),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return target


def tables_in(config: dict) -> list[str]:
    """The tables the target database already holds (none: it is empty)."""
    if is_sqlite(config):
        path = Path(config["NAME"])
        if not path.exists():
            return []
        with sqlite3.connect(path) as connection:
            rows = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        return [name for (name,) in rows]
    result = subprocess.run(
        [
            "psql",
            "--no-psqlrc",
            "--tuples-only",
            "--no-align",
            "--command",
            "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema')",
        ],
        env=pg_environment(config),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"Cannot read the target database: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line.strip()]


def restore(file: Path, *, config: dict | None = None) -> None:
    """Restore `file` (from `backup`) into the database `config` names (default
    DATABASE_URL's), which must be empty."""
    config = config or database_config()
    if not file.is_file():
        raise BackupError(f"No backup file at {file}.")
    with file.open("rb") as handle:
        magic = handle.read(16)
    if magic.startswith(b"SQLite format 3"):
        sqlite_backup = True
    elif magic.startswith(b"PGDMP"):
        sqlite_backup = False
    else:
        raise BackupError(f"{file.name} is not a backup made by `make backup`.")
    if sqlite_backup != is_sqlite(config):
        kind = "an SQLite" if sqlite_backup else "a PostgreSQL"
        raise BackupError(
            f"{file.name} is {kind} backup; DATABASE_URL points at a different kind of database."
        )
    existing = tables_in(config)
    if existing:
        raise BackupError(
            f"The target database {config['NAME']} is not empty ({len(existing)} tables): "
            "restore into a new, empty database (or drop this one first)."
        )
    if sqlite_backup:
        source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        target = sqlite3.connect(config["NAME"])
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return
    result = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", config["NAME"], str(file)],
        env=pg_environment(config),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["restore"]:
            if len(argv) != 2 or not argv[1]:
                raise BackupError("Usage: make restore FILE=var/backups/<file>")
            restore(Path(argv[1]))
            print(f"restore: {argv[1]} restored into {database_config()['NAME']}")
        elif not argv:
            print(f"backup: {backup()}")
        else:
            raise BackupError("Usage: python -m ops.backup [restore FILE]")
    except (BackupError, sqlite3.Error, OSError) as error:
        print(f"{'restore' if argv[:1] == ['restore'] else 'backup'}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
