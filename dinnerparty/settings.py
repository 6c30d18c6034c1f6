"""DinnerParty settings: one module, read from the environment.

Development needs no configuration at all. Production (``DJANGO_ENV=production``
or ``DEBUG=0``) refuses to start without ``SECRET_KEY``, ``ALLOWED_HOSTS`` and
``SITE_URL``.
Every variable is listed, with its default, in the README's *Configuration*.
"""

import math
import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_required(name: str, value: str | list[str] | None = None) -> str | list[str]:
    """The variable's value (or `value`, already parsed from it); stop when empty."""
    if value is None:
        value = os.environ.get(name, "").strip()
    if not value:
        # One clear line, not a traceback: this is an operator's mistake, not a bug.
        raise SystemExit(
            f"Configuration error: {name} must be set when DJANGO_ENV=production (or DEBUG is off)."
        )
    return value


def env_number(name: str, default: float, *, kind: type = int, minimum: float = 0) -> float:
    """The variable as a number (`kind`: int, or float), `default` when unset or
    empty; stop with one clear line when it is not one, or is below `minimum`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < minimum:
        what = "a whole number" if kind is int else "a number"
        raise SystemExit(
            f"Configuration error: {name} must be {what} of at least {minimum}, not {raw!r}."
        )
    return value


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development").strip().lower()
DEBUG = env_bool("DEBUG", DJANGO_ENV != "production")
PRODUCTION = DJANGO_ENV == "production" or not DEBUG

if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY")
    ALLOWED_HOSTS = env_required("ALLOWED_HOSTS", env_list("ALLOWED_HOSTS"))
else:
    # A development-only key: never used when DJANGO_ENV=production.
    SECRET_KEY = (
        os.environ.get("SECRET_KEY") or "dev-only-insecure-key-not-for-production-use-0123456789"
    )
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "accounts.apps.DinnerPartyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "heroicons",
    "bootstrap",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks_db",
    "compiled_queries",
    "accounts",
    "parties",
]

MIDDLEWARE = [
    "dinnerparty.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "dinnerparty.middleware.StaticFilesMiddleware",  # WhiteNoise
    "dinnerparty.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The visitor's language: the `django_language` cookie (set_language), else
    # the browser's Accept-Language; a member's saved one wins (UserLanguageMiddleware).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    "parties.middleware.NoticeMiddleware",
]

ROOT_URLCONF = "dinnerparty.urls"
WSGI_APPLICATION = "dinnerparty.wsgi.application"
ASGI_APPLICATION = "dinnerparty.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL picks the database: sqlite:///path/file.sqlite3 or
# postgres://user@host:5432/name. The default is a SQLite file under var/.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=env_number("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue (for up to
    # `timeout` seconds) instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # Reads through a memory map (up to 256 MiB) that the workers share, not a
        # 2 MiB page cache each (docs/performance.md).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=268435456;"
        ),
    }
    # A file, not the shared in-memory database: concurrency tests need real
    # connections from several threads. One per process, so runs never collide.
    DATABASES["default"]["TEST"] = {
        "NAME": str(BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3")
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", True
):
    # Parameters bound by the server, and a statement run a few times on a
    # connection prepared there (psycopg's threshold: 5), so PostgreSQL plans a
    # repeated query once. Django turns this off by default for poolers in
    # transaction mode (PgBouncer before 1.21): behind one, DB_PREPARED_STATEMENTS=0.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The statements every reply and page view repeats (parties/queries.py,
# accounts/queries.py) are compiled to SQL once per process by compiled_queries/.
# COMPILED_QUERIES=0 runs each as the plain ORM queryset it is built from.
COMPILED_QUERIES = env_bool("COMPILED_QUERIES", True)

# --- Cache --------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Django's RedisCache, but a Redis that goes away at run time is treated as an
    # empty cache instead of an error (dinnerparty/cache.py): pages are rendered
    # uncached, sessions read from the database, throttles count per process.
    CACHES = {
        "default": {
            "BACKEND": "dinnerparty.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dinnerparty",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# With Redis, each process also keeps the cached pages it served lately in its own
# memory, up to this many bytes (parties/page_cache.py; 0: none). Without Redis the
# cache is already the process's memory.
PAGE_CACHE_LOCAL_BYTES = env_number("PAGE_CACHE_LOCAL_BYTES", 8_000_000 if REDIS_URL else 0)

# Sessions live in the database (accounts.Session: each with the id of the account
# it is logged in to, so a request reads its session and user in one query,
# accounts/sessions.py), with Redis too: Django's cached_db would read the session
# from Redis and then the user from the database, which measured slower (make
# bench, docs/performance.md).
SESSION_ENGINE = "accounts.sessions"

# --- Accounts -----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailOrUsernameBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "parties:list"
LOGOUT_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "accounts.hashers.DinnerPartyArgon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 15},
    },
    {"NAME": "accounts.validators.MaximumLengthValidator"},
    # Words easy to guess here (the site's, the account's) don't count towards the 15.
    {"NAME": "accounts.validators.ContextWordsValidator", "OPTIONS": {"min_length": 15}},
    # Django's list and the long forms of it that a 15-character rule produces
    # (accounts/common_passwords.py builds accounts/data/common-passwords.txt.gz).
    {
        "NAME": "django.contrib.auth.password_validation.CommonPasswordValidator",
        "OPTIONS": {"password_list_path": BASE_DIR / "accounts/data/common-passwords.txt.gz"},
    },
    # Asks nothing unless PWNED_PASSWORDS_URL is set (below).
    {"NAME": "accounts.validators.BreachedPasswordValidator"},
]

# Breached passwords (ASVS 6.2.12): Have I Been Pwned's range API, asked with the
# first 5 hex digits of the password's SHA-1 only. Off by default (it needs the
# internet); to turn it on: PWNED_PASSWORDS_URL=https://api.pwnedpasswords.com/range/
PWNED_PASSWORDS_URL = os.environ.get("PWNED_PASSWORDS_URL", "")
PWNED_PASSWORDS_TIMEOUT = env_number("PWNED_PASSWORDS_TIMEOUT", 2.0, kind=float, minimum=0.1)

# Rate limits (accounts/throttle.py; docs/security.md gives the reasons). Failed
# logins per 15 minutes: per account (username and email alike) from browsers
# that never logged in to it, per browser that did (its device cookie), per IP.
LOGIN_FAILURES_PER_ACCOUNT = env_number("LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
LOGIN_FAILURES_PER_DEVICE = env_number("LOGIN_FAILURES_PER_DEVICE", 5, minimum=1)
LOGIN_FAILURES_PER_IP = env_number("LOGIN_FAILURES_PER_IP", 20, minimum=1)
# Sign-up attempts per IP per hour, refused ones too: a dinner's worth of guests,
# typos and all, signs up on one Wi-Fi; a script probing addresses soon stops.
SIGNUP_ATTEMPTS_PER_IP_PER_HOUR = env_number("SIGNUP_ATTEMPTS_PER_IP_PER_HOUR", 20, minimum=1)
# Reset emails per address per hour (past it: the same answer, no email), and
# reset requests per IP per hour.
PASSWORD_RESETS_PER_ADDRESS_PER_HOUR = env_number(
    "PASSWORD_RESETS_PER_ADDRESS_PER_HOUR", 3, minimum=1
)
PASSWORD_RESETS_PER_IP_PER_HOUR = env_number("PASSWORD_RESETS_PER_IP_PER_HOUR", 20, minimum=1)
# Email-confirmation links sent per account per hour (sign-up, "send it again",
# email changes): a typo fixed or two, not a way to mail strangers.
EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR = env_number(
    "EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR", 5, minimum=1
)
# Replies sent from a party's preview by visitors (parties.guest_replies): each
# emails a link to the address given, so they are limited per address and per IP.
GUEST_REPLIES_PER_ADDRESS_PER_HOUR = env_number("GUEST_REPLIES_PER_ADDRESS_PER_HOUR", 3, minimum=1)
GUEST_REPLIES_PER_IP_PER_HOUR = env_number("GUEST_REPLIES_PER_IP_PER_HOUR", 20, minimum=1)
# Per-IP limits read X-Forwarded-For only from these proxies (the list gunicorn
# trusts: addresses or networks, comma-separated, or *), and take the address
# TRUSTED_PROXY_COUNT entries from its right: the one the outermost proxy saw.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS", "127.0.0.1")
TRUSTED_PROXY_COUNT = env_number("TRUSTED_PROXY_COUNT", 1)

# Second factor (accounts/two_factor.py, docs/security.md): TOTP apps through
# django-otp. The name apps list the account under; the admin shows no secret keys.
OTP_TOTP_ISSUER = "DinnerParty"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# "Remember me" keeps a session for 30 days; otherwise it ends with the browser.
SESSION_COOKIE_AGE = 30 * 24 * 60 * 60
# Any other session (no "remember me", an admin login, a sign-up) also ends on
# the server after 12 hours unused (accounts/sessions.py).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_IDLE_AGE = 12 * 60 * 60
# However much it is used, a session ends this long after its login (ASVS 7.3.2):
# 24 hours, or 30 days with "keep me logged in" (accounts/sessions.py).
SESSION_MAX_AGE = env_number("SESSION_MAX_AGE_HOURS", 24, minimum=1) * 60 * 60
SESSION_REMEMBERED_MAX_AGE = (
    env_number("SESSION_REMEMBERED_MAX_AGE_DAYS", 30, minimum=1) * 24 * 60 * 60
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Email --------------------------------------------------------------------
# Django 6.1 mailers, configured from the classic EMAIL_* variables.
# Development prints mail to the console; production sends it by SMTP.
_email_backend = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
_mailer: dict = {"BACKEND": _email_backend}
if _email_backend.endswith("smtp.EmailBackend"):
    _mailer["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": env_number("EMAIL_PORT", 25, minimum=1),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": env_number("EMAIL_TIMEOUT", 10, minimum=1),
    }
elif _email_backend.endswith("filebased.EmailBackend"):
    # One file per message, e.g. to read a confirmation link while trying the site.
    _mailer["OPTIONS"] = {"file_path": os.environ.get("EMAIL_FILE_PATH", "var/mail")}
MAILERS = {"default": _mailer}
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "DinnerParty <noreply@dinnerparty.localhost>"
)

# --- Internationalisation -------------------------------------------------------
# The languages the site speaks (docs/i18n.md); URLs are the same in each.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", gettext_lazy("English")),
    ("de", gettext_lazy("German")),
    ("fr", gettext_lazy("French")),
    ("es", gettext_lazy("Spanish")),
    ("pt", gettext_lazy("Portuguese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English keeps the British date formats it had as "en-gb" (dinnerparty/formats/en).
FORMAT_MODULE_PATH = ["dinnerparty.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production serves collected, hashed, compressed files through WhiteNoise.
        # (A file missing from the manifest is logged and linked unhashed, so no
        # page, the error pages included, fails for it: dinnerparty/storage.py.)
        "BACKEND": "dinnerparty.storage.ForgivingManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Background tasks (django.tasks) and links in emails -------------------------
# A queue in the database (django-tasks-db): a task's row is written in the
# transaction of the change that causes it (parties.notifications.enqueue), and
# the worker (`manage.py worker`, which `make run` and `make worker` start) runs it.
# TASKS_BACKEND=immediate runs each task in-process once the change commits, with
# no worker: the test suite's default (conftest.py), the queue's tests excepted.
TASK_BACKENDS = {
    "database": "parties.task_backend.DatabaseBackend",  # django-tasks-db's, + request ids
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    # At scale: RQ on Redis (django-tasks-rq + django-rq; docs/scaling.md).
    "rq": "django_tasks_rq.RQBackend",
}
_tasks_backend = os.environ.get("TASKS_BACKEND", "database").strip().lower()
if _tasks_backend not in TASK_BACKENDS:
    raise SystemExit(
        f"Configuration error: TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}."
    )
TASKS = {"default": {"BACKEND": TASK_BACKENDS[_tasks_backend]}}
if REDIS_URL:
    # RQ's queue, for TASKS_BACKEND=rq (its keys start with "rq:"; the cache's don't).
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}}
if _tasks_backend == "rq":
    if not REDIS_URL:
        raise SystemExit("Configuration error: TASKS_BACKEND=rq needs REDIS_URL.")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]  # rqworker, the Job class
# A task marked running for longer than this lost its worker: the sweep re-queues it.
TASK_LEASE_SECONDS = env_number("TASK_LEASE_SECONDS", 300.0, kind=float, minimum=1)
# The worker claims this many due tasks at a time, in one transaction (parties/worker.py);
# 1 runs django-tasks-db's own loop, one task per claim.
TASK_WORKER_CLAIM = env_number("TASK_WORKER_CLAIM", 20, minimum=1)
# `manage.py worker` runs this many task_worker processes (a core each: sending an
# email is mostly Python, which one process runs on one core at a time) ...
TASK_WORKER_PROCESSES = env_number("TASK_WORKER_PROCESSES", os.process_cpu_count() or 1, minimum=1)
# ... each running its batch on this many threads, with their own connections (one
# sends while another waits for a reply): 2 when one process has the machine, else
# 1 (the other processes keep the cores busy meanwhile); 1 runs tasks one by one.
TASK_WORKER_THREADS = env_number(
    "TASK_WORKER_THREADS", 2 if TASK_WORKER_PROCESSES == 1 else 1, minimum=1
)
# On PostgreSQL the worker's own commits don't wait for the disk (parties/worker.py
# says what a database crash could then cost: an email sent twice, never one lost).
TASK_WORKER_ASYNC_COMMIT = env_bool("TASK_WORKER_ASYNC_COMMIT", True)
# Finished tasks' rows are deleted after this many days (each email's fate stays).
TASK_RESULTS_KEEP_DAYS = env_number("TASK_RESULTS_KEEP_DAYS", 7, minimum=1)
# The public address that links in emails start with. In development it follows the
# port the development server listens on (`PORT`, as `make run` sets it).
if PRODUCTION:
    SITE_URL = env_required("SITE_URL").rstrip("/")
else:
    SITE_URL = (
        os.environ.get("SITE_URL", "").strip()
        or f"http://127.0.0.1:{os.environ.get('PORT', '').strip() or '8000'}"
    ).rstrip("/")

# --- Forms and messages -------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

from django.contrib.messages import constants as message_constants  # noqa: E402

MESSAGE_TAGS = {message_constants.ERROR: "danger"}

# --- Security -----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is a one-way door, so it is opt-in; say so to check --deploy.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if env_bool("BEHIND_HTTPS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging: one line per event on stdout; never passwords or tokens ----------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "dinnerparty.logging.RequestIdFilter"},
        "redact": {"()": "dinnerparty.logging.RedactFilter"},
    },
    "formatters": {
        "line": {
            "class": "dinnerparty.logging.OneLineFormatter",
            "format": "time=%(asctime)s level=%(levelname)s logger=%(name)s "
            "request_id=%(request_id)s msg=%(message)s",
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": sys.stdout,
            "formatter": "line",
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print each line twice in DEBUG.
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # A task's start and success (two lines per email, in the request that
        # enqueued it, with the ImmediateBackend): only failures (ERROR) are logged.
        "django.tasks": {"level": "WARNING"},
    },
}

TEST_RUNNER = "dinnerparty.test_runner.PytestTestRunner"
