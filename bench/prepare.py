"""Benchmark fixtures on top of `seed_demo`, run by bench/run.py before each server start.

Prints one JSON object: the party with 50 going guests (made once, through the
same service the site uses, so any counters the app keeps stay right), one
upcoming public party per RSVP user to reply to, and the page count the list
view has for a logged-in member; the 50-guest party's invite link (the anonymous
preview); with `--reply-links N`, N single-use reply links written to
`--links-file` (one path a line), each a visitor's reply waiting for its emailed
link to a pool user's party, under an address no account has; with `--members N`,
accounts up to N members who host and reply to nothing (`member-0` …: seed_demo's
200 users alone would be a site of 100,000 parties and 200 accounts, whose
account lookups PostgreSQL plans for a table of a few pages). Also clears
Django's cache, so nothing cached by an earlier run (another database, another
size) is served by this one.

    .venv/bin/python -m bench.prepare --pool guest-100,guest-101,... \
        [--reply-links 42000 --links-file var/bench/specs/reply-links.txt] [--members 20000]
"""

import argparse
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinnerparty.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from parties import guest_replies, services  # noqa: E402
from parties.models import DinnerParty, PendingReply, RSVPStatus, Visibility  # noqa: E402

DETAIL_TITLE = "Bench: a table for fifty"
DETAIL_GUESTS = 50


def detail_party() -> DinnerParty:
    """A public party hosted by guest-0 with guest-1 … guest-50 going."""
    party = DinnerParty.objects.filter(title=DETAIL_TITLE).first()
    if party is None:
        party = DinnerParty.objects.create(
            host=User.objects.get(username="guest-0"),
            title=DETAIL_TITLE,
            starts_at=timezone.now() + timedelta(days=30),
            timezone="UTC",
            venue="1 Banquet Hall",
            main_dish="Roast for a crowd",
            seats=DETAIL_GUESTS + 10,
            visibility=Visibility.PUBLIC,
            description="Made by bench/prepare.py: the detail page with 50 guests.",
        )
    going = party.rsvps.filter(status=RSVPStatus.GOING).count()
    if going < DETAIL_GUESTS:
        names = [f"guest-{i}" for i in range(1, DETAIL_GUESTS + 1)]
        for guest in User.objects.filter(username__in=names).exclude(rsvps__party=party):
            services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.GOING)
    return party


def members(count: int) -> int:
    """Accounts `member-0` … up to `count` (an unusable password: they never log
    in), then the accounts table's statistics brought up to date. Returns how
    many there are."""
    have = User.objects.filter(username__startswith="member-").count()
    User.objects.bulk_create(
        (
            User(
                username=f"member-{number}",
                email=f"member-{number}@example.com",
                password="!",  # noqa: S106 (unusable, as set_unusable_password() makes it)
                email_confirmed_at=timezone.now(),
            )
            for number in range(have, count)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {User._meta.db_table}")
    return max(have, count)


def rsvp_targets(pool: list[str]) -> dict[str, int]:
    """One generated, upcoming public party per pool user, none hosted by them,
    so each user's replies lock a different row (the same ones at every size)."""
    users = dict(User.objects.filter(username__in=pool).values_list("username", "pk"))
    missing = sorted(set(pool) - set(users))
    if missing:
        raise SystemExit(f"prepare: users missing (seed with more --users): {missing[:5]}")
    candidates = (
        DinnerParty.objects.upcoming()
        .filter(title__startswith="Generated dinner", visibility=Visibility.PUBLIC)
        .exclude(host_id__in=users.values())
        .order_by("pk")
        .values_list("pk", flat=True)[: len(pool)]
    )
    parties = list(candidates)
    if len(parties) < len(pool):
        raise SystemExit("prepare: not enough generated public parties for the RSVP pool")
    return dict(zip(pool, parties, strict=True))


def reply_links(party_ids: list[int], count: int) -> list[str]:
    """`count` replies ("going") from visitors, spread over these parties so each
    reply locks a different row in turn, waiting for their links: the links'
    paths. Names and addresses are new at every run (each link makes an account)."""
    run = secrets.token_hex(3)
    tokens = dict(DinnerParty.objects.filter(pk__in=party_ids).values_list("pk", "invite_token"))
    replies = PendingReply.objects.bulk_create(
        (
            PendingReply(
                party_id=party_ids[number % len(party_ids)],
                invite_token=tokens[party_ids[number % len(party_ids)]],
                name=f"Bench {run} {number}",
                email=f"bench-{run}-{number}@example.com",
                status=RSVPStatus.GOING,
            )
            for number in range(count)
        ),
        batch_size=2000,
    )
    if any(reply.pk is None for reply in replies):  # a backend that returns no keys
        replies = list(
            PendingReply.objects.filter(email__startswith=f"bench-{run}-").order_by("pk")
        )
    return [
        reverse(
            "parties:guest_reply_confirm", args=[reply.party_id, guest_replies.link_token(reply)]
        )
        for reply in replies
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", required=True, help="comma-separated usernames")
    parser.add_argument("--reply-links", type=int, default=0, help="single-use reply links")
    parser.add_argument("--links-file", default="", help="where the reply links go")
    parser.add_argument("--members", type=int, default=0, help="accounts that only exist")
    args = parser.parse_args()
    pool = [name for name in args.pool.split(",") if name]
    cache.clear()
    accounts = members(args.members)
    party = detail_party()
    viewer = User.objects.get(username=pool[0])
    visible = DinnerParty.objects.upcoming().visible_to(viewer).count()
    targets = rsvp_targets(pool)
    if args.reply_links:
        links = reply_links(list(targets.values()), args.reply_links)
        Path(args.links_file).write_text("\n".join(links) + "\n")
    print(
        json.dumps(
            {
                "detail_party": party.pk,
                "detail_going": party.rsvps.filter(status=RSVPStatus.GOING).count(),
                "rsvp_parties": targets,
                "preview_path": reverse("parties:invite", args=[party.invite_token]),
                "reply_links": args.reply_links,
                "members": accounts,
                "visible_parties": visible,
                "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
            }
        )
    )


if __name__ == "__main__":
    main()
