from django.contrib.auth.hashers import Argon2PasswordHasher


class DinnerPartyArgon2Hasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane) instead of
    Django's 100 MiB × 8 lanes: a worker handling 16 logins at once needs about
    16 × 19 MiB ≈ 300 MiB, inside a 512 MB budget, and one login costs one core
    for ~20 ms rather than eight. Hashes made with other costs are upgraded at
    the next login (Django compares the parameters)."""

    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1
