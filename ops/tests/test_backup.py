"""`make backup` / `make restore` (ops/backup.py) on the test database, SQLite or
PostgreSQL, with replies being written while the backup is taken."""

import sqlite3
import subprocess
import threading
import time

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from ops import backup as backups
from parties import services
from parties.tests.factories import DinnerPartyFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WRITERS = 4
PARTIES = 3
SEATS = 5


@pytest.fixture
def restore_target(tmp_path):
    """An empty database of the test database's kind, dropped afterwards."""
    config = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        config["NAME"] = str(tmp_path / "restored.sqlite3")
        yield config
        return
    config["NAME"] = f"{connection.settings_dict['NAME']}_restored"
    admin = backups.pg_environment({**config, "NAME": "postgres"})
    subprocess.run(["dropdb", "--if-exists", config["NAME"]], env=admin, check=True)
    subprocess.run(["createdb", config["NAME"]], env=admin, check=True)
    yield config
    subprocess.run(["dropdb", "--if-exists", config["NAME"]], env=admin, check=True)


def query(config: dict, sql: str) -> list[tuple]:
    """Rows from the restored database, read with its own driver (not Django's)."""
    if config["ENGINE"].endswith("sqlite3"):
        with sqlite3.connect(config["NAME"]) as restored:
            return restored.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(
        dbname=config["NAME"],
        user=config["USER"],
        host=config["HOST"],
        port=config["PORT"],
        password=config["PASSWORD"] or None,
    ) as restored:
        return restored.execute(sql).fetchall()


def test_a_backup_taken_during_replies_restores_with_every_acknowledged_reply_and_true_seats(
    tmp_path, restore_target
):
    parties = [DinnerPartyFactory(seats=SEATS) for _ in range(PARTIES)]
    guests = [UserFactory() for _ in range(WRITERS * 10)]
    acknowledged: list[tuple[float, int, int]] = []  # (time acknowledged, party id, guest id)
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            for number, guest in enumerate(guests[index::WRITERS]):
                if stop.is_set():
                    break
                party = parties[number % PARTIES]
                services.rsvp_submit(party=party, guest=guest, status="going", plus_ones=number % 2)
                acknowledged.append((time.monotonic(), party.pk, guest.pk))
                if number % 3 == 2:  # and now and then a withdrawal
                    services.rsvp_submit(party=party, guest=guest, status="declined")
                time.sleep(0.01)
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for writer in writers:
        writer.start()
    while len(acknowledged) < 8 and any(writer.is_alive() for writer in writers):
        time.sleep(0.01)
    started = time.monotonic()
    file = backups.backup(config=dict(connection.settings_dict), directory=tmp_path)
    for writer in writers:
        writer.join(timeout=60)
    stop.set()

    assert not errors
    before = {(party, guest) for at, party, guest in acknowledged if at < started}
    assert before, "the backup was taken before any reply: the test proves nothing"
    assert len(acknowledged) > len(before), "no reply was written during the backup"

    backups.restore(file, config=restore_target)

    stored = set(query(restore_target, "SELECT party_id, guest_id FROM parties_rsvp"))
    assert before <= stored
    parties_restored = query(
        restore_target,
        "SELECT p.id, p.seats, p.seats_taken, COALESCE(SUM(1 + r.plus_ones), 0) "
        "FROM parties_dinnerparty p LEFT JOIN parties_rsvp r "
        "ON r.party_id = p.id AND r.status = 'going' GROUP BY p.id, p.seats, p.seats_taken",
    )
    assert len(parties_restored) == PARTIES
    for party_id, seats, seats_taken, counted in parties_restored:
        assert seats_taken == counted, f"party {party_id}"
        assert seats_taken <= seats


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    file = backups.backup(config=dict(connection.settings_dict), directory=tmp_path)

    with pytest.raises(backups.BackupError, match="is not empty"):
        backups.restore(file, config=dict(connection.settings_dict))


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, restore_target):
    stray = tmp_path / "notes.txt"
    stray.write_text("not a database")

    with pytest.raises(backups.BackupError, match="not a backup"):
        backups.restore(stray, config=restore_target)


def test_restore_says_so_when_the_file_is_missing(tmp_path, restore_target):
    with pytest.raises(backups.BackupError, match="No backup file"):
        backups.restore(tmp_path / "gone.sqlite3", config=restore_target)


def test_the_command_line_prints_one_line_and_fails_without_a_file(capsys):
    assert backups.main(["restore", ""]) == 1
    assert "Usage: make restore FILE=" in capsys.readouterr().err
