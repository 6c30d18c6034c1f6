"""Gunicorn settings for `make serve` (and the benchmark). Read from the environment."""

import multiprocessing
import os

_cores = multiprocessing.cpu_count()

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# One worker per core (two per core measured slower with a local database:
# docs/performance.md); WEB_CONCURRENCY overrides, e.g. with a remote database.
workers = int(os.environ.get("WEB_CONCURRENCY", str(_cores)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so slow leaks cannot build up; rarely, because a
# restart costs a cold start.
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = "-"
# Same access log, but invite tokens are cut out of request lines.
logger_class = "dinnerparty.logging.RedactingGunicornLogger"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus request_id=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
