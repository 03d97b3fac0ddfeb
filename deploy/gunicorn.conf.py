"""gunicorn's configuration for the platform's web processes (``gunicorn -c deploy/gunicorn.conf.py``).

Every value can be set from the environment (the systemd unit's EnvironmentFile), so that one file
serves every host; the defaults are production's. Why each:

- ``bind``: the load balancer reaches each host on this address (``GUNICORN_BIND``).
- ``workers``: sync workers, one request each; 2 per core plus one is gunicorn's own rule of thumb
  (``GUNICORN_WORKERS``). A checkout holds row locks for a few milliseconds, never waits on the
  AS400 (the outbox does), so sync workers are right: no request waits on anything slow.
- ``timeout``: a worker silent this long is killed and replaced; above the slowest request.
- ``graceful_timeout``: on SIGTERM (``systemctl stop``, a deploy) requests in progress finish.
- ``max_requests`` with jitter: each worker is replaced after that many requests, not all at once.
- ``preload_app`` off: each worker imports the app itself, so a reload (SIGHUP) loads new code, and
  no database connection is ever shared across a fork.
- logs to stderr (journald keeps them); the access log as one line per request.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
preload_app = False
wsgi_app = "config.wsgi:application"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = os.environ.get("GUNICORN_PROC_NAME", "platform-web")
# The load balancer in front sets X-Forwarded-*; gunicorn trusts them only from these addresses.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
