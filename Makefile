# DinnerParty: `make run` to try it, `make test` to check it.
VENV    := .venv
PY      := $(VENV)/bin/python
PORT    ?= 8000
MANAGE  := $(PY) manage.py

.PHONY: run serve worker test e2e lint format migrations superuser clean messages compilemessages i18n-check

# Find a Python >= 3.12: the .python-version one first, then the newest found.
$(PY):
	@py=""; \
	for cand in python$$(cat .python-version 2>/dev/null) python3.13 python3.12 python3 python; do \
	  path=$$(command -v $$cand 2>/dev/null) || continue; \
	  if $$path -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py=$$path; break; fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "DinnerParty needs Python 3.12 or newer (3.13 preferred) and found none."; \
	  echo "Install one, e.g. 'pyenv install 3.13' or 'apt-get install python3.13 python3.13-venv', then run make again."; \
	  exit 1; \
	fi; \
	echo "Using $$py ($$($$py --version))"; \
	$$py -m venv $(VENV) && $(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

# The server and the task worker together (Procfile.dev, honcho): the worker sends
# the emails, printed in its output. One Ctrl-C stops both.
run: export PYTHONUNBUFFERED = 1
# Links in emails point at this server (the worker's own PORT, from honcho, is another).
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(VENV)/.runtime compilemessages
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(VENV)/bin/honcho start --procfile Procfile.dev --port $(PORT)

# Production-style: gunicorn + WhiteNoise. Needs SECRET_KEY and ALLOWED_HOSTS
# (see README, *Production*); DJANGO_ENV defaults to production here.
serve: export DJANGO_ENV ?= production
serve: $(VENV)/.runtime compilemessages
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(VENV)/bin/gunicorn --config gunicorn.conf.py dinnerparty.wsgi

# The task worker for production (run it beside `make serve`; see README).
worker: export DJANGO_ENV ?= production
worker: $(VENV)/.runtime
	$(MANAGE) migrate --noinput
	$(MANAGE) worker

test: $(VENV)/.dev compilemessages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run
	$(PY) -m ops.i18n_check
	$(VENV)/bin/pytest -n auto

# --- Translations (docs/i18n.md) ------------------------------------------------
# The .mo files are build output (not committed): compiled from locale/*/django.po.
GETTEXT_MISSING := GNU gettext (msgfmt, xgettext) is missing: apt-get install gettext
compilemessages: $(VENV)/.runtime
	@command -v msgfmt >/dev/null || { echo "$(GETTEXT_MISSING)"; exit 1; }
	$(MANAGE) compilemessages --ignore .venv --ignore var --verbosity 0

# Collect every marked string into locale/{en,de,fr,es,pt}/LC_MESSAGES/django.po
# (file names only, no line numbers, no obsolete entries: small diffs).
messages: $(VENV)/.runtime
	@command -v xgettext >/dev/null || { echo "$(GETTEXT_MISSING)"; exit 1; }
	$(PY) -m ops.i18n_check makemessages

# Fails naming each message missing, untranslated, fuzzy or with other
# placeholders than its msgid, and when the .po files are behind the code.
i18n-check: $(VENV)/.runtime
	$(PY) -m ops.i18n_check

# Browser tests only (Chromium: apt-get install -y chromium); screenshots in var/screenshots/.
e2e: $(VENV)/.dev
	$(VENV)/bin/pytest -m e2e

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations: $(VENV)/.dev
	$(MANAGE) makemigrations
	$(VENV)/bin/ruff check --fix --quiet */migrations
	$(VENV)/bin/ruff format */migrations

# Load benchmark (bench/, issue 6): needs wrk, which it installs with apt-get.
# BENCH_WINDOW, BENCH_PAIRS, BENCH_SIZES, BENCH_DATABASES, … tune it (bench/README.md);
# with a postgres DATABASE_URL it runs on PostgreSQL too (in a database of its own).
# Each run writes bench/results/<UTC time>.json.
.PHONY: bench
$(VENV)/.bench: requirements-bench.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-bench.txt
	@touch $@

bench: $(VENV)/.runtime $(VENV)/.bench
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "wrk not found: installing it with apt-get (Debian package wrk)"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get install -y wrk || { $$sudo apt-get update && $$sudo apt-get install -y wrk; }; \
	}
	$(PY) -m bench.run

superuser: $(VENV)/.runtime
	$(MANAGE) createsuperuser

# Backups of DATABASE_URL's database (ops/backup.py): SQLite's online backup API or
# pg_dump -Fc, to var/backups/<UTC time>-…; restore only into an empty database.
# Reliability runs (ops/, docs/operations.md): PostgreSQL (a database of their own,
# OPS_DATABASE; `faults` makes a PostgreSQL server of its own, initdb + pg_ctl on
# OPS_PG_PORT, to restart) and a Redis they start on OPS_REDIS_PORT (6390).
# FAULTS_SHORT=1, SOAK_MINUTES=3 for CI; latest tables in docs/scaling.md.
.PHONY: faults burst cluster soak
faults: $(VENV)/.runtime
	$(PY) -m ops.faults

burst: $(VENV)/.runtime
	$(PY) -m ops.burst

cluster: $(VENV)/.runtime
	@command -v haproxy >/dev/null 2>&1 || { \
	  echo "haproxy not found: installing it with apt-get (Debian package haproxy)"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get install -y haproxy || { $$sudo apt-get update && $$sudo apt-get install -y haproxy; }; \
	}
	$(PY) -m ops.cluster

soak: $(VENV)/.runtime
	$(PY) -m ops.soak

.PHONY: backup restore
backup: $(VENV)/.runtime
	$(PY) -m ops.backup

restore: $(VENV)/.runtime
	$(PY) -m ops.backup restore "$(FILE)"

clean:
	rm -rf $(VENV) var
