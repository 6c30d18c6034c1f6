"""What is measured: each endpoint, the requests wrk sends it, and a first check."""

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bench.client import Client, Session, cookie_header, message_errors
from bench.config import LOGIN_USERS, PASSWORD
from bench.load import Request


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    method: str
    expect: int
    auth: bool  # sent with the logged-in pool's cookies
    # Each request works once (a reply's emailed link): every window gets requests
    # of its own from the prepared pool (`LinkPool`), never one sent before.
    single_use: bool = False


HELLO = Endpoint("hello", "/bench/hello (ceiling)", "GET", 200, auth=False)
LOGIN = Endpoint("login", "login POST", "POST", 302, auth=False)
# Each measured in windows that alternate with the ceiling's (bench.pairing).
PAIRED = [
    Endpoint("landing", "/ (anonymous)", "GET", 200, auth=False),
    Endpoint("list-p1", "/parties/ page 1", "GET", 200, auth=True),
    Endpoint("list-p50", "/parties/ page 50 (by Next)", "GET", 200, auth=True),
    Endpoint("detail-50", "party detail, 50 guests", "GET", 200, auth=True),
    Endpoint("rsvp", "RSVP POST", "POST", 302, auth=True),
    Endpoint("preview", "invite link preview (anonymous)", "GET", 200, auth=False),
    Endpoint(
        "reply-link", "guest reply by its email link (POST)", "POST", 302, False, single_use=True
    ),
]
ENDPOINTS = [HELLO, *PAIRED, LOGIN]  # the table's order

# Below the largest size only page 1 of the list runs: the baseline of the
# target that the list does not slow down as parties pile up (list-100k-vs-1k).
# The other endpoints have their targets at the largest size.
BASELINE = ("list-p1",)
# Measured in the run's last pass only (the production set-up, PostgreSQL + Redis,
# when it runs), keeping a run of three passes under its time limit: their targets
# are the run's, not each database's (bench.verdict).
ONE_PASS = ("preview", "reply-link")

# Reply links each window may use: far more than a window at 2 s gets through
# (RSVP POST answers ~300-470 a second), so wrk never comes round to a used one.
LINKS_PER_SECOND = 1500


class LinkPool:
    """The single-use reply links bench.prepare made (a file, one path a line),
    handed out in slices no two windows share. Past the end it starts over: the
    used links then answer 400, counted as errors, so a short pool shows."""

    def __init__(self, paths: list[str]) -> None:
        if not paths:
            raise ValueError("no reply links were prepared")
        self.paths = paths
        self.sample = paths[0]  # what the results name as the endpoint's path
        self.next = 0

    @classmethod
    def from_file(cls, path: str | Path) -> "LinkPool":
        return cls([line for line in Path(path).read_text().splitlines() if line])

    def take(self, count: int) -> list[str]:
        taken = [self.paths[(self.next + i) % len(self.paths)] for i in range(count)]
        self.next += count
        return taken


def links_needed(*, window: int, pairs: int) -> int:
    """How many reply links one run of the endpoint may use: one window's share
    for the precheck, the warm-up and each window (up to twice the planned pairs,
    with the retakes)."""
    return (2 * pairs + 2) * window * LINKS_PER_SECOND


# Measured with the compiled-query layer on and off (COMPILED_QUERIES), by the
# short name the summary line gives them.
COMPILED = {"rsvp": "rsvp", "list-p1": "list", "detail-50": "detail"}


def build_requests(
    endpoint: Endpoint,
    prep: dict,
    sessions: dict[str, Session],
    login_csrf: tuple[dict, str],
    *,
    window: int = 2,
) -> list[Request]:
    """The requests wrk rotates through; for a single-use endpoint, a fresh slice
    of the pool each call, enough for a window of `window` seconds."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    if endpoint.name == "hello":
        return [Request("GET", "/bench/hello")]
    if endpoint.name == "landing":
        return [Request("GET", "/")]
    if endpoint.name == "preview":
        return [Request("GET", prep["preview_path"])]
    if endpoint.name == "reply-link":
        # Logged out, as a guest who opens the link; any form's CSRF pair will do.
        jar, token = login_csrf
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token})
        return [
            Request("POST", path, {**form, "Cookie": cookie_header(jar)}, body)
            for path in prep["reply_link_pool"].take(window * LINKS_PER_SECOND)
        ]
    if endpoint.name == "login":
        jar, token = login_csrf
        return [
            Request(
                "POST",
                "/accounts/login/",
                {**form, "Cookie": cookie_header(jar)},
                urllib.parse.urlencode(
                    {"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token}
                ),
            )
            for user in LOGIN_USERS
        ]
    paths = {
        "list-p1": "/parties/",
        "detail-50": f"/parties/{prep['detail_party']}/",
    }
    if endpoint.name in paths:
        return [
            Request("GET", paths[endpoint.name], {"Cookie": cookie_header(s.cookies)})
            for s in sessions.values()
        ]
    if endpoint.name == "list-p50":
        deep = prep.get("page50_paths") or {}
        return [
            Request(
                "GET",
                deep.get(s.username, "/parties/?page=50"),
                {"Cookie": cookie_header(s.cookies)},
            )
            for s in sessions.values()
        ]
    # RSVP: every user's "going", then every user's "declined" (see rotate.lua).
    return [
        Request(
            "POST",
            f"/parties/{prep['rsvp_parties'][s.username]}/rsvp/",
            {**form, "Cookie": cookie_header(s.cookies)},
            urllib.parse.urlencode(
                {"status": status, "plus_ones": "0", "note": "", "csrfmiddlewaretoken": s.token}
            ),
        )
        for status in ("going", "declined")
        for s in sessions.values()
    ]


def precheck(client: Client, endpoint: Endpoint, request: Request) -> tuple[str, str]:
    """One request through Python first: ("ok" | "skip" | "error", why)."""
    cookies = {}
    if "Cookie" in request.headers:
        cookies = dict(p.split("=", 1) for p in request.headers["Cookie"].split("; ") if p)
    form = (
        dict(urllib.parse.parse_qsl(request.body, keep_blank_values=True)) if request.body else None
    )
    answer = client.request(request.method, request.path, cookies=cookies, form=form)
    if endpoint.name == "list-p50" and answer.status == 404:
        return "skip", "no page 50 at this size"
    if answer.status != endpoint.expect:
        return "error", f"{request.method} {request.path} answered {answer.status} " + (
            f"→ {answer.location}" if answer.location else ""
        )
    if "/accounts/login/" in answer.location and endpoint.name != "login":
        return "error", f"{request.path} sent a logged-in user to the login page"
    if endpoint.name == "rsvp":
        errors = message_errors(answer)
        if errors:
            return "error", f"RSVP refused: {errors[0]}"
    return "ok", ""
