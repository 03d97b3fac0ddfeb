"""Settings, all from the environment (django-environ, 12-factor).

Nothing secret lives here: every secret has a development default that only works on the
embedded setup (SQLite, the django-q2 ORM broker, the AS400 simulator) and must be set in
production. See README.md for the variables.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.backends import database_config, q_cluster_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)  # the embedded default keeps its files here

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A real key or no start: sessions, the admin's signed messages and django-q2's task signatures
# all rest on it. Only DEBUG runs without one; bin/run keeps a generated key in var/secret-key,
# the tests set their own (tests/settings.py).
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set: give the platform a secret key of at least 50 random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), the same on every process"
        )
    SECRET_KEY = "insecure-development-key-for-debug-only"
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.PlatformAdminConfig",  # django.contrib.admin with the project's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here: /api/docs/ needs no CDN
    "django_q",
    "import_export",
    "integration",
    "integration.shopify",
    "inventory",
    "orders",
    "returns",
    "shopify_channel",  # Shopify, the second storefront: what it means to catalogue, stock and orders
    "reconciliation",
    "demo",  # above every app: the embedded setup's demo data
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The admin speaks French unless the user picked English (the language switch in its user
    # tools, kept in a cookie) or the browser asks only for English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# DATABASE_URL picks the backend: a SQLite file by default, postgres://... in production.
DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'platform.sqlite3'}")
DATABASES = {"default": database_config(DATABASE_URL)}
# Each process keeps its connection between requests and tasks (a new PostgreSQL backend per request
# cost more CPU than the checkout itself); one older than this is closed at a request's or task's
# end and opened again, and one found broken (PostgreSQL restarted) is replaced before it is used.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The hottest reads (integration.core.prepared) are prepared on the server on PostgreSQL: planned
# once per connection instead of at every request. Turn off behind a pooler that cannot keep
# prepared statements (PgBouncer in transaction mode before 1.21). Every other query keeps Django's
# client-side binding, which psycopg never prepares: the threshold 0 reaches only those reads.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True) and (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
)
if DATABASE_PREPARED_STATEMENTS:
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
# How long a process keeps the reference data every checkout reads (integration.core.reference_cache).
REFERENCE_CACHE_SECONDS = env.float("REFERENCE_CACHE_SECONDS", default=2.0)
# The AS400's tables read live (optional, read-only): DB2 through ibm-db-django (db2://...) or a
# replica. Nothing is ever written or migrated there (integration.as400.live.legacy.LegacyRouter).
LEGACY_DATABASE_URL = env.str("LEGACY_DATABASE_URL", default="")
if LEGACY_DATABASE_URL:
    DATABASES["legacy"] = database_config(LEGACY_DATABASE_URL)
DATABASE_ROUTERS = ["integration.as400.live.legacy.LegacyRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time and language --------------------------------------------------------------------
# The AS400 runs on Paris time and stores no offset; everything here is aware datetimes.
# French first, English too: our texts are written in English and translated in each app's
# locale/fr/LC_MESSAGES/django.po (compiled to .mo by bin/bootstrap, bin/compile-translations).
LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
# One way to write a moment per language, everywhere in the admin (integration.core.admin_formats).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static"))

# --- REST API -----------------------------------------------------------------------------
# The storefront API (/api/v1/): bearer tokens of storefront clients, a scope per view, a rate
# limit per client, JSON only, one error shape (integration.storefront.api).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "integration.storefront.api.openapi.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["integration.storefront.api.auth.StorefrontTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["integration.storefront.api.auth.HasRequiredScope"],
    "DEFAULT_THROTTLE_CLASSES": ["integration.storefront.api.auth.StorefrontClientThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["integration.storefront.api.renderers.ApiJSONRenderer"],
    # Serializers leave datetimes as they are; the renderer writes every one in UTC with Z.
    "DATETIME_FORMAT": None,
    "DEFAULT_PARSER_CLASSES": ["integration.storefront.api.parsers.ApiJSONParser"],
    "EXCEPTION_HANDLER": "integration.storefront.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# When the rate-limit counters (the cache) cannot be reached: true serves requests uncounted
# (a Redis outage must not stop a sale), false refuses them with 503 rate_limit_unavailable.
API_THROTTLE_FAIL_OPEN = env.bool("API_THROTTLE_FAIL_OPEN", default=True)
# Behind a TLS-terminating proxy or load balancer: trust its headers, so that absolute URLs
# (the `next` links) say https:// and the public host. Off by default: only set these when the
# proxy always sets (and overwrites) the header, or clients could forge them.
# DJANGO_SECURE_PROXY_SSL_HEADER is "HEADER,value", e.g. "HTTP_X_FORWARDED_PROTO,https".
_PROXY_SSL_HEADER = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[])
if _PROXY_SSL_HEADER:
    if len(_PROXY_SSL_HEADER) != 2:
        raise ImproperlyConfigured(
            "DJANGO_SECURE_PROXY_SSL_HEADER must be 'HEADER,value', e.g. 'HTTP_X_FORWARDED_PROTO,https'"
        )
    SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER[0], _PROXY_SSL_HEADER[1])
USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=False)
# HTTPS only, by default: plain HTTP is redirected, cookies are sent over TLS only, and browsers
# are told (HSTS) to come back over HTTPS. The embedded setup on loopback (bin/run, the tests)
# sets DJANGO_HTTPS=false; a load balancer that terminates TLS needs DJANGO_SECURE_PROXY_SSL_HEADER.
HTTPS = env.bool("DJANGO_HTTPS", default=True)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=HTTPS)
# The health and metrics endpoints are probed over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]  # probes and the Prometheus scrape
SPECTACULAR_SETTINGS = {
    "TITLE": "Retail integration platform API",
    "DESCRIPTION": "Catalogue, availability, reservations and orders for the storefronts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v[0-9]+",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "OrderDeliveryEnum": "orders.models.Order.Delivery",
        "StorefrontEventTypeEnum": "integration.models.StorefrontEvent.Type",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integration.storefront.api.schema.describe_api",
    ],
}

# --- Task queue (django-q2) ---------------------------------------------------------------
# REDIS_URL switches the broker from the database (embedded default) to Redis (production).
REDIS_URL = env.str("REDIS_URL", default="")
# Seconds a cache (rate-limit counter) operation may wait for Redis before it counts as down.
REDIS_CACHE_TIMEOUT = env.float("REDIS_CACHE_TIMEOUT", default=0.5)
# The cache holds the API's rate-limit counters: in Redis when there is one, so that every web
# process counts the same requests; in the process's memory otherwise (the embedded setup).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "platform",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CACHE_TIMEOUT,
                "socket_timeout": REDIS_CACHE_TIMEOUT,
            },
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
Q_CLUSTER = q_cluster_config(
    REDIS_URL,
    name=env.str("Q_CLUSTER_NAME", default="platform"),
    workers=env.int("Q_WORKERS", default=2),
    timeout=env.int("Q_TIMEOUT", default=120),
    retry=env.int("Q_RETRY", default=180),
    max_attempts=env.int("Q_MAX_ATTEMPTS", default=3),
    save_limit=env.int("Q_SAVE_LIMIT", default=5000),
    # One host owns the schedules (README, "On several machines"): true there, false on every other host.
    scheduler=env.bool("Q_SCHEDULER", default=True),
)

# --- The AS400 ----------------------------------------------------------------------------
# The exchange folders hold IN/ (we write, the AS400 reads) and OUT/ (the AS400 writes).
AS400_EXCHANGE_DIR = env.path("AS400_EXCHANGE_DIR", default=str(VAR_DIR / "exchange"))
AS400_CCSID = env.int("AS400_CCSID", default=297)
# The layouts are read from DDS sources; a site whose AS400 differs edits a .dds file.
AS400_DDS_DIR = env.path("AS400_DDS_DIR", default=str(BASE_DIR / "integration" / "as400" / "dds"))
# Which implementation of each port: the exchange folder ("local", "sftp", "ftp", "ftps" or a dotted
# path to a class),
# and the live stock reader ("none", "simulator", or "legacy" for the DB2 alias).
AS400_EXCHANGE_BACKEND = env.str("AS400_EXCHANGE_BACKEND", default="local")
# The remote backends ("sftp", "ftp", "ftps": the AS400's IFS through its OpenSSH or FTP server,
# integration/as400/exchange/sftp.py and ftp.py): where, as whom, and what to trust. The URL holds
# no password (sftp://USER@HOST:22/exchange, ftps://USER@HOST:21/exchange); the password and the key
# are never logged. SFTP refuses any host key but the pinned one (a known_hosts line or a SHA256:
# fingerprint); FTPS checks the server's certificate against the CA file (the system's when empty).
AS400_EXCHANGE_URL = env.str("AS400_EXCHANGE_URL", default="")
AS400_EXCHANGE_PASSWORD = env.str("AS400_EXCHANGE_PASSWORD", default="")
AS400_EXCHANGE_SSH_KEY_FILE = env.str("AS400_EXCHANGE_SSH_KEY_FILE", default="")
AS400_EXCHANGE_SSH_HOST_KEY = env.str("AS400_EXCHANGE_SSH_HOST_KEY", default="")
AS400_EXCHANGE_TLS_CA_FILE = env.str("AS400_EXCHANGE_TLS_CA_FILE", default="")
AS400_EXCHANGE_TIMEOUT = env.float("AS400_EXCHANGE_TIMEOUT", default=30.0)  # seconds, each request
AS400_LIVE_READER = env.str("AS400_LIVE_READER", default="none")
AS400_LIVE_TIMEOUT = env.float("AS400_LIVE_TIMEOUT", default=0.5)  # seconds; then the projection decides
AS400_LIVE_TABLE = env.str("AS400_LIVE_TABLE", default="ERPLIB.STKBAL")
# How far ahead of the AS400's clock (ours; the simulator's with AS400_EXCHANGE_BACKEND=simulator) an
# extract's CTCDAT/CTCTIM may be, and how far behind the previous extract of its name: beyond, the
# pair is quarantined as implausible.
AS400_CLOCK_TOLERANCE_MINUTES = env.int("AS400_CLOCK_TOLERANCE_MINUTES", default=60)

# --- The outbox dispatcher -------------------------------------------------------------------
AS400_BATCH_WINDOW = env.str("AS400_BATCH_WINDOW", default="01:00-03:30")  # Paris time: nothing is sent
OUTBOX_MAX_ORDERS_PER_FILE = env.int("OUTBOX_MAX_ORDERS_PER_FILE", default=200)
OUTBOX_MAX_ORDERS_PER_MINUTE = env.int("OUTBOX_MAX_ORDERS_PER_MINUTE", default=600)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)  # then dead, alerted, retryable in the admin
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=30)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=3600)
OUTBOX_CONSUME_DEADLINE_MINUTES = env.int("OUTBOX_CONSUME_DEADLINE_MINUTES", default=15)
OUTBOX_ACK_DEADLINE_MINUTES = env.int("OUTBOX_ACK_DEADLINE_MINUTES", default=60)
OUTBOX_BREAKER_REFUSED_FILES = env.int("OUTBOX_BREAKER_REFUSED_FILES", default=3)
OUTBOX_BREAKER_COOLDOWN_MINUTES = env.int("OUTBOX_BREAKER_COOLDOWN_MINUTES", default=10)

# --- Webhooks to the storefronts (integration/storefront/webhooks.py) -------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)  # connect, send, each read
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)  # then dead, alerted, replayable
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)  # full jitter, doubling
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600)
# Webhook endpoints on this machine or a private network (loopback, 10/8, 192.168/16, link-local...)
# are refused unless allowed: a webhook must not become a way to reach the platform's internal
# services. Allowed by default only in DEBUG (a storefront developer's receiver on localhost).
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=DEBUG)

# --- Inventory ----------------------------------------------------------------------------
RESERVATION_TTL_SECONDS = env.int("RESERVATION_TTL_SECONDS", default=15 * 60)
INVENTORY_AUTO_MAP = env.bool("INVENTORY_AUTO_MAP", default=True)  # map new items with their number as SKU
INVENTORY_WAREHOUSE = env.int("INVENTORY_WAREHOUSE", default=900)  # the location that ships home deliveries
# The simulator keeps its own data in its own SQLite file, apart from the platform's database.
AS400_SIMULATOR_DB = env.path("AS400_SIMULATOR_DB", default=str(VAR_DIR / "as400sim.sqlite3"))
# The simulator's admin page (seed, step, faults, exports into the exchange folder): only where
# this is on, the embedded setup (bin/run, the tests); never in a deployment with a real AS400.
AS400_SIMULATOR_ADMIN = env.bool("AS400_SIMULATOR_ADMIN", default=False)

# --- Returns ---------------------------------------------------------------------------------
# A web return whose goods have not all arrived this long after it was announced needs attention.
RETURN_RECEIPT_DEADLINE_DAYS = env.int("RETURN_RECEIPT_DEADLINE_DAYS", default=14)

# --- Shopify (integration/shopify/, shopify_channel/) -----------------------------------------
# The shop and the app's credentials come from the environment and are never logged. Empty
# SHOPIFY_SHOP: no Shopify at all (nothing is pushed, the webhook endpoint refuses everything).
# bin/run and the tests point SHOPIFY_ADMIN_URL at the Shopify simulator on loopback.
SHOPIFY_SHOP = env.str("SHOPIFY_SHOP", default="")  # e.g. "maison-exemple.myshopify.com"
SHOPIFY_ADMIN_URL = env.str("SHOPIFY_ADMIN_URL", default="")  # default: https://<SHOPIFY_SHOP>
SHOPIFY_API_VERSION = env.str("SHOPIFY_API_VERSION", default="2026-10")  # one a quarter; each >= 12 months
SHOPIFY_CLIENT_ID = env.str("SHOPIFY_CLIENT_ID", default="")
SHOPIFY_CLIENT_SECRET = env.str("SHOPIFY_CLIENT_SECRET", default="")  # also the webhooks' HMAC key
SHOPIFY_CLIENT_NAME = env.str("SHOPIFY_CLIENT_NAME", default="shopify")  # the storefront client its orders carry
SHOPIFY_TIMEOUT_SECONDS = env.float("SHOPIFY_TIMEOUT_SECONDS", default=10.0)
SHOPIFY_CALL_MAX_ATTEMPTS = env.int("SHOPIFY_CALL_MAX_ATTEMPTS", default=10)  # then dead, alerted, retryable
SHOPIFY_CALL_RETRY_BASE_SECONDS = env.float("SHOPIFY_CALL_RETRY_BASE_SECONDS", default=30.0)  # full jitter
SHOPIFY_CALL_RETRY_MAX_SECONDS = env.float("SHOPIFY_CALL_RETRY_MAX_SECONDS", default=3600.0)
SHOPIFY_CALL_LEASE_SECONDS = env.int("SHOPIFY_CALL_LEASE_SECONDS", default=300)  # a claimed call, then taken again
SHOPIFY_STOCK_LEASE_SECONDS = env.int("SHOPIFY_STOCK_LEASE_SECONDS", default=120)  # pairs a push works on
SHOPIFY_WEBHOOK_MAX_ATTEMPTS = env.int("SHOPIFY_WEBHOOK_MAX_ATTEMPTS", default=5)  # a failing handler, by the sweep
SHOPIFY_TOKEN_RENEW_BEFORE_SECONDS = env.int("SHOPIFY_TOKEN_RENEW_BEFORE_SECONDS", default=3600)
# One execute: 5xx, timeouts and transport errors tried this many times (full jitter), then ShopifyUnavailable.
SHOPIFY_HTTP_ATTEMPTS = env.int("SHOPIFY_HTTP_ATTEMPTS", default=4)
SHOPIFY_HTTP_RETRY_BASE_SECONDS = env.float("SHOPIFY_HTTP_RETRY_BASE_SECONDS", default=0.5)
SHOPIFY_HTTP_RETRY_MAX_SECONDS = env.float("SHOPIFY_HTTP_RETRY_MAX_SECONDS", default=8.0)
# An order the AS400 refused (ORDACK R) is flagged for staff; also cancelled in Shopify when true.
SHOPIFY_CANCEL_REFUSED = env.bool("SHOPIFY_CANCEL_REFUSED", default=False)
# Where Shopify posts its webhooks (this platform's /shopify/webhooks); shopify_subscriptions_ensure
# (re-)creates the connector's subscriptions pointing there. Empty: subscriptions are not checked.
SHOPIFY_WEBHOOK_URL = env.str("SHOPIFY_WEBHOOK_URL", default="")
# The poll of orders updated since its cursor (what webhooks missed; every 5 minutes, schedule
# "Shopify orders poll"): how far before the cursor it reads again, so that an order updated in the
# cursor's second is not skipped.
SHOPIFY_POLL_OVERLAP_SECONDS = env.int("SHOPIFY_POLL_OVERLAP_SECONDS", default=120)
# Bulk operations (the first catalogue sync, the nightly reconciliation's snapshot) end with the
# bulk_operations/finish webhook; the operation is also read every SHOPIFY_BULK_POLL_SECONDS in case
# that webhook is late or lost, and given up (the caller retries later) after the timeout.
SHOPIFY_BULK_POLL_SECONDS = env.float("SHOPIFY_BULK_POLL_SECONDS", default=10.0)
SHOPIFY_BULK_TIMEOUT_SECONDS = env.float("SHOPIFY_BULK_TIMEOUT_SECONDS", default=3600.0)
# A recorded bulk mutation (the first catalogue sync) is waited for at most this long by one task,
# well below Q_TIMEOUT; the next run (the schedule's, or the one the finish webhook queues) waits on
# and applies it. A run holds the operation this long (a killed one's lease ends, then it is taken up).
SHOPIFY_BULK_WAIT_IN_TASK_SECONDS = env.float("SHOPIFY_BULK_WAIT_IN_TASK_SECONDS", default=60.0)
SHOPIFY_BULK_LEASE_SECONDS = env.float("SHOPIFY_BULK_LEASE_SECONDS", default=150.0)
# The nightly reconciliation compares the Shopify orders updated in this many hours before the run
# (a day, and the batch window) with ours; orders updated in the last SHOPIFY_RECONCILE_GRACE_SECONDS
# before the snapshot are left to the webhooks and the poll (timing alone is no discrepancy).
SHOPIFY_RECONCILE_LOOK_BACK_HOURS = env.int("SHOPIFY_RECONCILE_LOOK_BACK_HOURS", default=27)
SHOPIFY_RECONCILE_GRACE_SECONDS = env.int("SHOPIFY_RECONCILE_GRACE_SECONDS", default=900)

# --- Reconciliation (reconciliation/) --------------------------------------------------------
# By this Paris time the night must have been reconciled: the fallback schedule runs it then, and
# /health/reconciliation is unhealthy while the night has no finished run.
RECONCILIATION_DEADLINE = env.str("RECONCILIATION_DEADLINE", default="06:30")
# Who is e-mailed when a run passes a threshold (comma-separated); none: the alert alone.
OPERATIONS_EMAILS = env.list("OPERATIONS_EMAILS", default=[])
# Django's e-mail: the console in development; production sets an SMTP backend and its host.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="plateforme@localhost")

# --- Monitoring: GET /health/outbox answers 503 past any of these (integration/monitoring/health.py) ----
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")  # set: the probe sends "Authorization: Bearer <it>"
HEALTH_MAX_PENDING_AGE_SECONDS = env.int("HEALTH_MAX_PENDING_AGE_SECONDS", default=900)
HEALTH_MAX_DEAD = env.int("HEALTH_MAX_DEAD", default=0)
# Files still in IN/ past OUTBOX_CONSUME_DEADLINE_MINUTES (the breaker already holds back at one).
HEALTH_MAX_UNCONSUMED_FILES = env.int("HEALTH_MAX_UNCONSUMED_FILES", default=0)
HEALTH_MAX_SECONDS_SINCE_ACK = env.int("HEALTH_MAX_SECONDS_SINCE_ACK", default=3600)  # while acks are awaited
HEALTH_MAX_STOCK_AGE_SECONDS = env.int("HEALTH_MAX_STOCK_AGE_SECONDS", default=3600)  # newest applied STKBAL

# LOG_FORMAT=json: one JSON object a line (python-json-logger), for the log shipper; every line
# carries order_number, file_name and task where the code works on one (integration/core/log_context.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"log_context": {"()": "integration.core.log_context.LogContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["log_context"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs every request at INFO: a webhook's outcome is logged (and kept) by our delivery
    # code instead, once, without a line per request in a sales peak.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
