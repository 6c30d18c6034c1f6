"""Demo data for `make run`, and large data sets for the benchmark.

Without options it is idempotent: running it twice changes nothing. With
``--parties N`` it tops the generated set up to N parties (batched
``bulk_create``, so memory stays flat as N grows).
"""

import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from enum import Enum
from itertools import islice

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import sql
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from parties import schedule, services
from parties.models import RSVP, DinnerParty, RSVPStatus, Visibility, new_invite_token

DEMO_PASSWORD = "dinner-party-demo-2026"  # noqa: S105 -- printed for demo logins, by design
DEMO_USERS = [
    # username, first, last, dietary notes, time zone, diets, allergies
    ("ana", "Ana", "García", "vegetarian", "Europe/Madrid", ["vegetarian"], []),
    ("ben", "Ben", "Okafor", "", "Europe/London", [], ["crustaceans"]),
    ("chloe", "Chloé", "Martin", "no nuts, please", "Europe/Paris", [], ["tree_nuts", "peanuts"]),
    ("dev", "Dev", "Patel", "gluten-free", "Europe/London", ["gluten_free"], ["gluten"]),
    ("eva", "Eva", "Schmidt", "", "Europe/Berlin", [], []),
    ("felix", "Felix", "Novak", "vegan", "Europe/Berlin", ["vegan"], []),
]
BATCH = 2000
QUIET_MAIL = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
BULK_PREFIX = "guest"


def private(i: int) -> bool:
    """One generated party in five is private, on every day alike. (Party i falls
    on day i % 365: `i % 5 == 0` made every fifth day wholly private, so the first
    page of the list had to skip a whole day of parties nobody else may see.)"""
    return (i + i // 365) % 5 == 0


@contextmanager
def commits_not_waiting_for_the_disk() -> Iterator[None]:
    """PostgreSQL: commits that don't wait for the disk (its WAL writer flushes
    them meanwhile) until the block ends, however it ends. For generated rows
    only: running the seed again makes them again."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


class GoingReplies:
    """Generated "going" replies with no plus-ones, inserted `BATCH` at a time.

    Nine in ten generated rows are replies, and `bulk_create` prepares every value
    of every row through its field (most of the 100 s that 100,000 parties with a
    million replies took on SQLite here; 37 s this way).
    These rows differ only in their party and guest, so Django compiles one row's
    INSERT once, its fields preparing each value as `bulk_create` would, and each
    batch of rows is that statement with their two ids, run by `executemany`; on
    PostgreSQL the same values go through COPY, its bulk load (a 100,000-party
    seed: 70 s -> 55 s here, and 46 s with its commits not waiting for the disk)."""

    def __init__(self) -> None:
        example = RSVP(party_id=0, guest_id=0, status=RSVPStatus.GOING)
        fields = [field for field in RSVP._meta.concrete_fields if not field.primary_key]
        query = sql.InsertQuery(RSVP)
        query.insert_values(fields, [example])
        # (Its created_at and updated_at: now, from the fields' own pre_save.)
        [(self.statement, params)] = query.get_compiler(connection=connection).as_sql()
        self.params = list(params)
        names = [field.attname for field in fields]
        self.party_at, self.guest_at = names.index("party_id"), names.index("guest_id")
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        self.copy_statement = f"COPY {quote(RSVP._meta.db_table)} ({columns}) FROM STDIN"

    def rows(self, template: list, pairs: Iterable[tuple[int, int]]) -> Iterator[list]:
        """`template`'s values for each (party id, guest id), with those two ids."""
        for party_id, guest_id in pairs:
            row = template.copy()
            row[self.party_at], row[self.guest_at] = party_id, guest_id
            yield row

    def copy(self, cursor, pairs: Iterator[tuple[int, int]]) -> None:
        """PostgreSQL: the rows through COPY, its bulk load (psycopg's `copy()`),
        the same prepared values in each (an enum as its value)."""
        template = [value.value if isinstance(value, Enum) else value for value in self.params]
        with cursor.copy(self.copy_statement) as copy:
            for row in self.rows(template, pairs):
                copy.write_row(row)

    def insert(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Insert a reply for each (party id, guest id)."""
        pairs = iter(pairs)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                self.copy(cursor, pairs)
                return
            while batch := list(islice(pairs, BATCH)):
                cursor.executemany(self.statement, list(self.rows(self.params, batch)))


class Command(BaseCommand):
    help = "Load demo users and parties (idempotent); with --parties, a large set for benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=0, help="generated guests to have")
        parser.add_argument("--parties", type=int, default=0, help="generated parties to have")
        parser.add_argument("--rsvps-per-party", type=int, default=10)

    def handle(self, *args, **options) -> None:
        if connection.vendor == "sqlite":
            # The site reads SQLite through a memory map (settings.py); a bulk
            # writer gains nothing from it, and the mapped pages it touched would
            # count as its memory (RSS 80 -> 260 MB at 100,000 parties).
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA mmap_size=0")
        # Demo replies would email made-up addresses: send those nowhere.
        with override_settings(MAILERS=QUIET_MAIL):
            users = self.demo_users()
            self.demo_parties(users)
            self.demo_potluck(users)
        if options["parties"] or options["users"]:
            with commits_not_waiting_for_the_disk():
                self.bulk(options["users"], options["parties"], options["rsvps_per_party"])
        names = ", ".join(username for username, *_rest in DEMO_USERS)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Log in as any of: {names}")
        self.stdout.write(f"  Password for each: {DEMO_PASSWORD}")
        self.stdout.write(
            "  'ana' is staff in the Hosts group: /admin/ shows only her parties, after she"
            " sets up two-step verification on her first visit there."
        )
        self.stdout.write(
            "  'eva' hosts a potluck with 'felix' as co-host; try it as ben or chloe."
        )

    def demo_potluck(self, users: dict[str, User]) -> None:
        """A potluck for 8 in a hidden home address: three guests with different
        needs have claimed dishes, one more is waitlisted, the co-host has posted."""
        eva = users["eva"]
        starts = timezone.make_aware(
            datetime.combine(timezone.localdate() + timedelta(days=8), time(19, 0)),
            DinnerParty(timezone=eva.timezone).zone,
        )
        party, created = DinnerParty.objects.get_or_create(
            host=eva,
            title="Potluck under the stars",
            defaults={
                "starts_at": starts,
                "timezone": eva.timezone,
                "venue": "Wiener Straße 14, 10999 Berlin (back courtyard)",
                "area": "Kreuzberg, Berlin",
                "hide_address": True,
                "main_dish": "Roast squash with tahini",
                "seats": 8,
                "visibility": Visibility.PUBLIC,
                "description": "Everyone brings something; I make the main.",
            },
        )
        if not created:
            return
        schedule.schedule_party_tasks(party)
        schedule.schedule_reply_reminders(party)
        party.cohosts.add(users["felix"])
        services.potluck_set_slots(party=party, wanted=services.suggested_slots(9))
        for guest, plus_ones in [("ben", 1), ("chloe", 0), ("dev", 0), ("felix", 0)]:
            services.rsvp_submit(
                party=party, guest=users[guest], status=RSVPStatus.GOING, plus_ones=plus_ones
            )
        claims = [
            ("ben", "starter", "Prawn cocktail", ["crustaceans", "eggs"], [], True),
            ("chloe", "dessert", "Pecan pie", ["tree_nuts", "gluten", "eggs", "milk"], [], True),
            ("dev", "side", "Rice salad", [], ["vegan", "gluten_free"], True),
        ]
        for guest, course, name, allergens, suits, complete in claims:
            services.slot_claim(
                party=party,
                guest=users[guest],
                course=course,
                name=name,
                allergens=allergens,
                suits=suits,
                allergens_complete=complete,
            )
        services.rsvp_submit(party=party, guest=users["ana"], status=RSVPStatus.GOING, plus_ones=4)
        services.announce(
            party=party,
            author=users["felix"],
            audience="going",
            text="Bring a jumper, we're eating outside!",
        )

    def demo_users(self) -> dict[str, User]:
        users = {}
        for username, first, last, diet, zone, diets, allergies in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@example.com",
                    "first_name": first,
                    "last_name": last,
                    "dietary_notes": diet,
                    "timezone": zone,
                    "diets": diets,
                    "allergies": allergies,
                    "email_confirmed_at": timezone.now(),
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            users[username] = user
        ana = users["ana"]
        if not ana.is_staff:
            ana.is_staff = True
            ana.save(update_fields=["is_staff"])
        ana.groups.add(Group.objects.get(name="Hosts"))
        return users

    def demo_parties(self, users: dict[str, User]) -> None:
        today = timezone.localdate()
        plans = [
            # host, title, days ahead, venue, dish, seats, visibility, replies
            (
                "ana",
                "Paella on the roof",
                3,
                "Calle Mayor 12, Madrid",
                "Seafood paella",
                4,
                Visibility.PUBLIC,
                [("ben", 1), ("chloe", 0), ("dev", 1), ("eva", 0)],
            ),
            (
                "chloe",
                "Cassoulet night",
                10,
                "Rue des Martyrs 8, Paris",
                "Cassoulet",
                8,
                Visibility.PUBLIC,
                [("ana", 0), ("felix", 1)],
            ),
            (
                "eva",
                "Secret supper club",
                6,
                "Oranienstraße 25, Berlin",
                "Käsespätzle",
                6,
                Visibility.PRIVATE,
                [("ben", 0), ("felix", 0)],
            ),
            (
                "ben",
                "Sunday roast",
                17,
                "14 Elm Row, London",
                "Roast chicken",
                10,
                Visibility.PUBLIC,
                [],
            ),
        ]
        for host, title, days, venue, dish, seats, visibility, replies in plans:
            host_user = users[host]
            zone = DinnerParty(timezone=host_user.timezone).zone
            starts = timezone.make_aware(
                datetime.combine(today + timedelta(days=days), time(19, 30)), zone
            )
            party, created = DinnerParty.objects.get_or_create(
                host=host_user,
                title=title,
                defaults={
                    "starts_at": starts,
                    "timezone": host_user.timezone,
                    "venue": venue,
                    "main_dish": dish,
                    "seats": seats,
                    "visibility": visibility,
                    "description": "Bring good company; the host brings the food.",
                },
            )
            if not created:
                continue
            schedule.schedule_party_tasks(party)
            schedule.schedule_reply_reminders(party)
            for guest, plus_ones in replies:
                services.rsvp_submit(
                    party=party,
                    guest=users[guest],
                    status=RSVPStatus.GOING,
                    plus_ones=plus_ones,
                    note="I'll bring wine" if plus_ones else "",
                )

    def bulk(self, n_users: int, n_parties: int, rsvps_per_party: int) -> None:
        """Generated users and parties, for benchmarks. Rows are built in batches
        and never all held in memory at once."""
        n_users = max(n_users, rsvps_per_party + 1, 1)
        password = make_password(DEMO_PASSWORD)  # hash once, share it
        confirmed = timezone.now()  # demo addresses count as confirmed
        existing = User.objects.filter(username__startswith=f"{BULK_PREFIX}-").count()
        self.insert(
            User,
            (
                User(
                    username=f"{BULK_PREFIX}-{i}",
                    email=f"{BULK_PREFIX}-{i}@example.com",
                    password=password,
                    email_confirmed_at=confirmed,
                )
                for i in range(existing, n_users)
            ),
        )
        guest_ids = list(
            User.objects.filter(username__startswith=f"{BULK_PREFIX}-")
            .order_by("pk")
            .values_list("pk", flat=True)[:n_users]
        )
        have = DinnerParty.objects.filter(title__startswith="Generated dinner").count()
        rng = random.Random(have)  # noqa: S311 -- demo data, not security
        now = timezone.now()
        seats = rsvps_per_party + 2
        replies = GoingReplies()
        for start in range(have, n_parties, BATCH):
            stop = min(start + BATCH, n_parties)
            with transaction.atomic():
                parties = DinnerParty.objects.bulk_create(
                    DinnerParty(
                        host_id=guest_ids[i % len(guest_ids)],
                        title=f"Generated dinner #{i}",
                        starts_at=now + timedelta(days=1 + i % 365, minutes=i % 1440),
                        timezone="UTC",
                        venue=f"{i} Long Table Street",
                        main_dish=rng.choice(["Lasagne", "Curry", "Tagine", "Risotto", "Ramen"]),
                        seats=seats,
                        seats_taken=rsvps_per_party,
                        visibility=Visibility.PRIVATE if private(i) else Visibility.PUBLIC,
                        invite_token=new_invite_token(),
                    )
                    for i in range(start, stop)
                )
                replies.insert(
                    (party.pk, guest_id)
                    for party in parties
                    # Guests from the whole pool, as in life: nobody replies to every party.
                    for guest_id in [
                        g
                        for g in rng.sample(guest_ids, min(len(guest_ids), rsvps_per_party + 1))
                        if g != party.host_id
                    ][:rsvps_per_party]
                )
            self.stdout.write(f"  {stop}/{n_parties} generated parties")
        # Fresh planner statistics, or the first queries on a bulk-loaded table
        # pick poor plans (PostgreSQL would take a while to get there by itself).
        # On PostgreSQL VACUUM also marks the new rows visible to all, which lets
        # the list read a deep page's ids from its index alone (autovacuum would
        # get there in its own time). VACUUM cannot run inside a transaction.
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")

    def insert(self, model, rows) -> None:
        rows = iter(rows)
        while batch := list(islice(rows, BATCH)):
            model.objects.bulk_create(batch)
