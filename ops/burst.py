"""`make burst` (`python -m ops.burst`): an invite lands in a 300-person group chat
and everyone taps Going within about a second.

300 guests (accounts and logged-in sessions made beforehand) reply Going to one
12-seat party over 256 connections, released together. Checked: exactly 12 are
seated, the other 288 are on the waitlist in the order they reached the seat lock
(no seated reply arrived after a waitlisted one; the positions guests were told are
1…288, each once, and match the database), no 5xx except a friendly 503 if the
server sheds load, and every guest's next page says which (going, or their place
on the waitlist). Prints p50/p99 and the answers by status; ends `burst: held` or
`burst: failed: …`. BURST_GUESTS, BURST_CONNECTIONS, BURST_SEATS change the sizes.
"""

import os
import re
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from ops.harness import (
    Answer,
    Browser,
    PrivateDatabase,
    PrivateRedis,
    percentile,
    running_site,
    say,
    seat_invariant_breaks,
)

GUESTS = int(os.environ.get("BURST_GUESTS") or "300")
CONNECTIONS = int(os.environ.get("BURST_CONNECTIONS") or "256")
SEATS = int(os.environ.get("BURST_SEATS") or "12")
PORT = int(os.environ.get("BURST_PORT") or "8872")
COLUMNS = "guests connections seats seated waitlisted answers p50 p99 all-done-in"
WAITLIST_SAYS = re.compile(r"you(?:&#x27;|&#39;|')re #(\d+) on the waitlist")
GOING_SAYS = re.compile(r"You(?:&#x27;|&#39;|')re going to")


def logged_in_browsers(usernames: list[str], port: int) -> list[Browser]:
    """A browser per guest with a session made beforehand (as guests who logged in
    earlier) and a CSRF cookie with its form token."""
    from django.contrib.auth import get_user_model
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
    browsers = []
    for name in usernames:
        client = Client()
        client.force_login(users[name])
        browser = Browser(port, timeout=120)
        browser.cookies["sessionid"] = client.cookies["sessionid"].value
        secret = _get_new_csrf_string()
        browser.cookies["csrftoken"] = secret
        browser.token = secret
        browsers.append(browser)
    return browsers


def run_burst(browsers: list[Browser], party: int) -> list[tuple[Answer, Answer | None]]:
    """Every browser POSTs Going at once (CONNECTIONS at a time), then follows the
    redirect as a browser does. Returns (reply, next page) per browser."""
    start = threading.Barrier(min(CONNECTIONS, len(browsers)))
    results: list[tuple[Answer, Answer | None]] = [None] * len(browsers)  # type: ignore[list-item]

    def one(index: int) -> None:
        browser = browsers[index]
        if index < CONNECTIONS:
            start.wait(30)
        reply = browser.post(f"/parties/{party}/rsvp/", {"status": "going", "plus_ones": "0"})
        page = browser.get(f"/parties/{party}/") if reply.status == 302 else None
        results[index] = (reply, page)

    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        list(pool.map(one, range(len(browsers))))
    return results


def check(results, usernames: list[str], party: int, seconds: float) -> tuple[list[str], dict]:
    from django.db import connection

    from parties.models import RSVP, RSVPStatus

    problems: list[str] = []
    statuses = Counter(reply.status for reply, _ in results)
    for status, count in statuses.items():
        if status >= 500 and status != 503 or status == 0:
            problems.append(f"{count} replies answered {status or 'nothing'}")
    unfriendly = sum(1 for reply, _ in results if reply.status == 503 and not reply.friendly_503)
    if unfriendly:
        problems.append(f"{unfriendly} 503s without the friendly page and Retry-After")

    told: dict[str, str | int] = {}
    for name, (reply, page) in zip(usernames, results, strict=True):
        if reply.status != 302 or page is None:
            continue
        if GOING_SAYS.search(page.body):
            told[name] = "going"
        elif found := WAITLIST_SAYS.search(page.body):
            told[name] = int(found.group(1))
        else:
            told[name] = "nothing"
    silent = [n for n, what in told.items() if what == "nothing"]
    if silent:
        problems.append(f"{len(silent)} guests' next page said neither, e.g. {silent[0]}")

    connection.close()
    rsvps = list(RSVP.objects.filter(party_id=party).select_related("guest"))
    going = [r for r in rsvps if r.status == RSVPStatus.GOING]
    waiting = [r for r in rsvps if r.status == RSVPStatus.WAITLISTED]
    waiting.sort(key=lambda r: (r.waitlisted_at, r.pk))
    acknowledged = sum(1 for reply, _ in results if reply.status == 302)
    if len(going) != SEATS:
        problems.append(f"{len(going)} seated, not {SEATS}")
    if len(rsvps) != acknowledged:
        problems.append(f"{len(rsvps)} replies stored, {acknowledged} acknowledged")
    if going and waiting and max(r.created_at for r in going) > waiting[0].waitlisted_at:
        problems.append("a seated reply arrived after a waitlisted one")
    for position, rsvp in enumerate(waiting, start=1):
        said = told.get(rsvp.guest.username)
        if said != position:
            problems.append(
                f"{rsvp.guest.username} is #{position} on the waitlist but was told {said}"
            )
            break
    for rsvp in going:
        if told.get(rsvp.guest.username) != "going":
            problems.append(f"{rsvp.guest.username} is seated but was not told so")
            break
    problems += seat_invariant_breaks()
    times = [reply.seconds for reply, _ in results]
    figures = {
        "guests": len(results),
        "statuses": dict(statuses),
        "seated": len(going),
        "waitlisted": len(waiting),
        "p50": percentile(times, 0.50),
        "p99": percentile(times, 0.99),
        "seconds": seconds,
    }
    return problems, figures


def main() -> int:
    database = PrivateDatabase(os.environ.get("OPS_DATABASE") or "dinnerparty_ops_burst")
    redis = PrivateRedis()
    say(f"burst: {GUESTS} guests, {CONNECTIONS} connections, {SEATS} seats; gunicorn on {PORT}")
    with running_site(
        database,
        redis,
        port=PORT,
        name="burst",
        guests=GUESTS,
        parties=1,
        seats=SEATS,
        worker=False,
    ) as site:
        usernames, (party,) = site.users, site.parties
        browsers = logged_in_browsers(usernames, PORT)
        say("burst: go")
        started = time.monotonic()
        results = run_burst(browsers, party)
        seconds = time.monotonic() - started
        problems, figures = check(results, usernames, party, seconds)
        statuses = ", ".join(f"{s or 'none'}: {n}" for s, n in sorted(figures["statuses"].items()))
        print()
        columns = COLUMNS.split()
        print("| " + " | ".join(columns) + " |")
        print("|" + " --- |" * len(columns))
        print(
            f"| {figures['guests']} | {CONNECTIONS} | {SEATS} | {figures['seated']} | "
            f"{figures['waitlisted']} | {statuses} | {figures['p50'] * 1000:.0f} ms | "
            f"{figures['p99'] * 1000:.0f} ms | {seconds:.1f} s |"
        )
        print()
        print("burst: held" if not problems else f"burst: failed: {'; '.join(problems)}")
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
