"""bench.hashers: the benchmark's workers time their password checks."""

import os

import pytest
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.urls import reverse

from accounts.hashers import DinnerPartyArgon2Hasher
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from bench.hashers import TimedArgon2Hasher

TIMED = "bench.hashers.TimedArgon2Hasher"


@pytest.fixture
def timed(settings, tmp_path):
    """The benchmark's hashers, writing their times under tmp_path."""
    settings.PASSWORD_HASHERS = [TIMED]
    settings.BENCHMARK_HASH_TIMES = tmp_path / "hash-times"
    return settings.BENCHMARK_HASH_TIMES / f"{os.getpid()}.txt"


def checks(path) -> list[tuple[float, float]]:
    return [tuple(map(float, line.split())) for line in path.read_text().splitlines()]


def test_each_check_writes_its_cpu_and_wall_time(timed):
    encoded = make_password(DEFAULT_PASSWORD)

    assert check_password(DEFAULT_PASSWORD, encoded) is True
    assert check_password("not the password", encoded) is False

    times = checks(timed)
    assert len(times) == 2
    for cpu, wall in times:
        # An Argon2 check of these costs takes tens of milliseconds of CPU.
        assert 0.005 < cpu < 5
        assert wall >= cpu * 0.9  # (the two clocks are read a moment apart)


def test_it_is_the_sites_hasher_so_stored_hashes_are_never_remade(timed):
    """The benchmark's users were hashed by the site's hasher: they check the same
    and need no new hash at login (which would add a second hash to each login)."""
    site = DinnerPartyArgon2Hasher()
    encoded = site.encode(DEFAULT_PASSWORD, site.salt())
    hasher = get_hasher("default")

    assert isinstance(hasher, TimedArgon2Hasher)
    assert hasher.algorithm == site.algorithm
    assert hasher.verify(DEFAULT_PASSWORD, encoded) is True
    assert hasher.must_update(encoded) is False
    assert site.verify(DEFAULT_PASSWORD, hasher.encode(DEFAULT_PASSWORD, hasher.salt()))


@pytest.mark.django_db
def test_a_login_through_the_form_is_one_timed_check(client, timed):
    UserFactory(username="ana", email="ana@example.com")

    response = client.post(reverse("login"), {"username": "ana", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert len(checks(timed)) == 1
