"""Request ids on responses and log lines, the Permissions-Policy header, and
/healthz when Redis is configured."""

import logging
import logging.config
import re

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings
from django.urls import reverse

from dinnerparty import settings as project_settings
from dinnerparty import views
from dinnerparty.logging import RequestIdFilter

pytestmark = pytest.mark.django_db

HEALTHZ = reverse("healthz")
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
LOCAL_REDIS = "redis://127.0.0.1:6379/15"


def line_formatter() -> logging.Formatter:
    """The formatter settings.LOGGING gives the stdout handler."""
    config = project_settings.LOGGING
    return logging.config.DictConfigurator(config).configure_formatter(config["formatters"]["line"])


# --- X-Request-ID -------------------------------------------------------------------------------


def test_a_request_without_an_id_gets_a_fresh_one(client):
    first = client.get(HEALTHZ)["X-Request-ID"]
    second = client.get(HEALTHZ)["X-Request-ID"]

    assert GENERATED_ID.fullmatch(first)
    assert GENERATED_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "incoming",
    ["abc123", "7f1c2a34-5b6d-4e8f-9a0b-1c2d3e4f5a6b", "lb-01.req:42_x", "a" * 64],
)
def test_a_sane_incoming_id_is_echoed(client, incoming):
    response = client.get(HEALTHZ, headers={"X-Request-ID": incoming})

    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "abc\nlevel=ERROR forged=1",
        "abc\r\nSet-Cookie: x=1",
        "abc\n",
        "a" * 65,
        "a" * 200,
        "has spaces",
        "<script>",
        "id=1;drop",
        "",
    ],
    ids=[
        "newline",
        "crlf",
        "trailing-newline",
        "65-chars",
        "200-chars",
        "spaces",
        "html",
        "sep",
        "empty",
    ],
)
def test_a_hostile_incoming_id_is_replaced(client, incoming):
    response = client.get(HEALTHZ, headers={"X-Request-ID": incoming})

    assert GENERATED_ID.fullmatch(response["X-Request-ID"])
    assert response.wsgi_request.request_id == response["X-Request-ID"]


def test_the_id_is_sent_on_redirects_and_not_found_pages_too(client):
    redirect = client.get(reverse("profile"), headers={"X-Request-ID": "r-1"})
    missing = client.get("/no-such-page/", headers={"X-Request-ID": "r-2"})

    assert (redirect.status_code, redirect["X-Request-ID"]) == (302, "r-1")
    assert (missing.status_code, missing["X-Request-ID"]) == (404, "r-2")


def test_the_permissions_policy_turns_off_camera_microphone_and_geolocation(client):
    policy = client.get(reverse("home"))["Permissions-Policy"]

    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy


# --- the request id in logs --------------------------------------------------------------------


class DeadRedis:
    """Stands in for the cache when Redis is down."""

    def set(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    get = set


@pytest.fixture
def redis_down(monkeypatch, settings):
    settings.REDIS_URL = LOCAL_REDIS
    monkeypatch.setattr(views, "cache", DeadRedis())


@pytest.fixture
def request_id_caplog(caplog):
    request_id_filter = RequestIdFilter()
    caplog.handler.addFilter(request_id_filter)
    caplog.set_level(logging.INFO)
    yield caplog
    caplog.handler.removeFilter(request_id_filter)


def test_log_records_during_a_request_carry_its_id(client, redis_down, request_id_caplog):
    response = client.get(HEALTHZ, headers={"X-Request-ID": "req-42"})

    records = [r for r in request_id_caplog.records if r.name == "dinnerparty.views"]
    assert len(records) == 1
    assert records[0].getMessage() == "Health check: Redis did not answer"
    assert records[0].levelno == logging.ERROR
    assert records[0].request_id == "req-42" == response["X-Request-ID"]


def test_a_generated_id_is_the_one_in_the_logs(client, redis_down, request_id_caplog):
    response = client.get(HEALTHZ)

    (record,) = [r for r in request_id_caplog.records if r.name == "dinnerparty.views"]
    assert GENERATED_ID.fullmatch(record.request_id)
    assert record.request_id == response["X-Request-ID"]


def test_log_records_outside_a_request_carry_a_dash(client, request_id_caplog):
    client.get(HEALTHZ, headers={"X-Request-ID": "over-now"})
    logging.getLogger("dinnerparty.test").info("after the request")

    (record,) = [r for r in request_id_caplog.records if r.name == "dinnerparty.test"]
    assert record.request_id == "-"


def test_the_log_line_names_level_logger_and_request_id(client, redis_down, request_id_caplog):
    formatter = line_formatter()
    client.get(HEALTHZ, headers={"X-Request-ID": "req-7"})

    (record,) = [r for r in request_id_caplog.records if r.name == "dinnerparty.views"]
    line = formatter.format(record)
    # The traceback follows on the same line, its newlines escaped.
    assert re.fullmatch(
        r"time=\S+ \S+ level=ERROR logger=dinnerparty\.views request_id=req-7 "
        r"msg=Health check: Redis did not answer\\nTraceback .*",
        line,
    )


def test_an_exception_is_logged_on_one_line(client, redis_down, request_id_caplog):
    formatter = line_formatter()
    client.get(HEALTHZ, headers={"X-Request-ID": "req-8"})

    (record,) = [r for r in request_id_caplog.records if r.name == "dinnerparty.views"]
    assert "\n" not in formatter.format(record)


def test_a_path_cannot_forge_a_log_line(client, request_id_caplog):
    client.get(
        "/nope%0Alevel=ERROR%20logger=x%20request_id=forged/", headers={"X-Request-ID": "r-9"}
    )

    (record,) = [r for r in request_id_caplog.records if r.name == "django.request"]
    assert "\n" not in line_formatter().format(record)


def test_the_not_found_warning_carries_the_request_id(client, request_id_caplog):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "req-404"})

    assert response.status_code == 404
    (record,) = [r for r in request_id_caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Not Found: /no-such-page/"
    assert record.request_id == "req-404"


# --- /healthz and Redis ------------------------------------------------------------------------


def test_healthz_answers_200_saying_redis_is_degraded_when_it_is_down(client, redis_down):
    # 200, not 503: the site serves without Redis (dinnerparty/cache.py), and a 503
    # would make the load balancer take every app server out at once.
    response = client.get(HEALTHZ)

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "degraded": ["redis"]}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_leaves_redis_alone_when_it_is_not_configured(client, monkeypatch, settings):
    settings.REDIS_URL = ""
    monkeypatch.setattr(views, "cache", DeadRedis())

    response = client.get(HEALTHZ)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_200_when_redis_answers(client):
    connection = redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {LOCAL_REDIS}")
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": LOCAL_REDIS,
            "KEY_PREFIX": "dinnerparty-test-healthz",
        }
    }
    # override_settings swaps the cache handler in and out (setting_changed), so
    # the Redis cache is gone again before the suite's cache.clear() runs.
    try:
        with override_settings(CACHES=redis_cache, REDIS_URL=LOCAL_REDIS):
            assert isinstance(caches["default"], RedisCache)
            response = client.get(HEALTHZ)
        # The check really went to Redis.
        assert connection.delete("dinnerparty-test-healthz:1:healthz") == 1
    finally:
        connection.close()

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
