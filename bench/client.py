"""HTTP as a browser does it: one request per connection, cookies, CSRF, the login form."""

import base64
import html
import http.client
import json
import re
import urllib.parse
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie

from bench.config import PASSWORD


@dataclass
class Answer:
    status: int
    location: str
    cookies: dict[str, str | None]
    body: str


class Client:
    """One request per connection, as wrk against gunicorn's sync workers."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self,
        method: str,
        path: str,
        *,
        cookies: dict[str, str | None] | None = None,
        form: dict[str, str] | None = None,
    ) -> Answer:
        headers = {}
        if cookies:
            headers["Cookie"] = cookie_header(cookies)
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            jar: dict[str, str | None] = {}
            for line in response.headers.get_all("Set-Cookie") or []:
                parsed = SimpleCookie()
                parsed.load(line)
                for name, morsel in parsed.items():
                    gone = morsel["max-age"] == "0" or morsel.value == ""
                    jar[name] = None if gone else morsel.value
            return Answer(response.status, response.getheader("Location", ""), jar, text)
        finally:
            conn.close()


def cookie_header(jar: dict[str, str | None]) -> str:
    # The messages cookie is a browser's leftover; the load sends none.
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v and k != "messages")


def merge(jar: dict[str, str | None], new: dict[str, str | None]) -> dict[str, str | None]:
    out = {**jar, **new}
    return {k: v for k, v in out.items() if v}


def form_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return found.group(1) if found else ""


def message_errors(answer: Answer) -> list[str]:
    """Error messages (level ≥ 40) the response carries in Django's messages cookie."""
    value = (answer.cookies.get("messages") or "").strip('"')
    if not value:
        return []
    payload = value.rsplit(":", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload) % 4))
        if payload.startswith("."):
            raw = zlib.decompress(raw)
        messages = json.loads(raw)
    except (ValueError, zlib.error):
        return []
    return [m[3] for m in messages if isinstance(m, list) and len(m) > 3 and m[2] >= 40]


@dataclass
class Session:
    username: str
    cookies: dict[str, str | None]
    token: str = ""  # a form's csrfmiddlewaretoken for these cookies


def log_in(client: Client, username: str) -> Session:
    page = client.request("GET", "/accounts/login/")
    jar = merge({}, page.cookies)
    token = form_token(page.body) or jar.get("csrftoken") or ""
    answer = client.request(
        "POST",
        "/accounts/login/",
        cookies=jar,
        form={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    jar = merge(jar, answer.cookies)
    if answer.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login as {username} answered {answer.status}, not 302 with a session")
    return Session(username, jar)


def pool_sessions(port: int, rsvp_parties: dict[str, int]) -> dict[str, Session]:
    """Log the pool in (4 at a time: each login is one Argon2 hash) and fetch a
    CSRF form token for each from the page of the party they will reply to."""
    client = Client(port)

    def one(username: str) -> Session:
        session = log_in(client, username)
        page = client.request("GET", f"/parties/{rsvp_parties[username]}/", cookies=session.cookies)
        if page.status != 200:
            raise RuntimeError(f"party page for {username} answered {page.status}")
        session.cookies = merge(session.cookies, page.cookies)
        session.token = form_token(page.body) or session.cookies.get("csrftoken") or ""
        return session

    with ThreadPoolExecutor(max_workers=4) as pool:
        return {s.username: s for s in pool.map(one, list(rsvp_parties))}


NEXT_LINK = re.compile(r'href="(\?page=\d+&amp;after=\d+)">Next<')

DEEP_PAGE = 50


def deep_page_paths(port: int, sessions: dict[str, Session]) -> dict[str, str]:
    """Each pool user's page 50, reached as a person reaches it: "Next" from page 1
    (the links carry the last card, so the page starts there). Users with fewer
    pages are left out; with none at all, the list-p50 run is skipped."""
    client = Client(port)

    def walk(session: Session) -> tuple[str, str | None]:
        path = "/parties/"
        for _ in range(DEEP_PAGE - 1):
            answer = client.request("GET", path, cookies=session.cookies)
            found = NEXT_LINK.search(answer.body) if answer.status == 200 else None
            if found is None:
                return session.username, None
            path = "/parties/" + html.unescape(found.group(1))
        return session.username, path

    with ThreadPoolExecutor(max_workers=4) as pool:
        walked = pool.map(walk, list(sessions.values()))
    return {name: path for name, path in walked if path}


def reuse_sessions(port: int, parties: dict[str, int], logged_in: dict) -> dict | None:
    if logged_in.get("parties") != parties:
        return None
    sessions = logged_in["sessions"]
    first = next(iter(sessions.values()))
    page = Client(port).request("GET", "/parties/", cookies=first.cookies)
    return sessions if page.status == 200 else None
