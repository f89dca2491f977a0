"""Settings, all from environment variables (README lists them).

Unset, they give the embedded default: SQLite and a filesystem Celery broker under ``var/``.
``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch the same code to PostgreSQL and Redis/RabbitMQ.
"""

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from segapp.env import env_bool, env_int, env_list, env_str
from segapp.private_files import private_dir, private_file, private_siblings


def _env_at_least(name: str, default: int, minimum: int) -> int:
    value = env_int(name, default)
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SEGAPP_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DATABASE_URL = env_str("DATABASE_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# The embedded default is "nothing configured": one machine, no servers to install.
EMBEDDED = not DATABASE_URL and not CELERY_BROKER_URL
if EMBEDDED:
    private_dir(VAR_DIR)


def _secret_key() -> str:
    key = env_str("SEGAPP_SECRET_KEY")
    if key:
        return key
    if DATABASE_URL:
        # Several machines must share one key (sessions, encrypted settings): never invent one.
        raise ImproperlyConfigured("SEGAPP_SECRET_KEY must be set when DATABASE_URL is set")
    private_dir(VAR_DIR)
    path = private_file(VAR_DIR / "secret_key")
    if not path.read_text().strip():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("SEGAPP_DEBUG", False)
ALLOWED_HOSTS = env_list("SEGAPP_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("SEGAPP_CSRF_TRUSTED_ORIGINS", [])
# How many reverse proxies of ours stand in front of Segapp, each appending to X-Forwarded-For:
# the client's address is the entry the outermost one wrote. 0: the header is ignored.
TRUSTED_PROXIES = _env_at_least("SEGAPP_TRUSTED_PROXIES", 0, 0)
# Destinations on private/loopback addresses are refused unless this is on (SSRF guard).
EGRESS_ALLOW_PRIVATE = env_bool("SEGAPP_EGRESS_ALLOW_PRIVATE", EMBEDDED)
# An endpoint override receives the instance's credentials, so it may name only the tool's own
# hosts (catalog data); these are added for every tool: a corporate proxy, a local test sink.
# Each is ``host`` (any port) or ``host:port``.
ENDPOINT_EXTRA_HOSTS = env_list("SEGAPP_ENDPOINT_EXTRA_HOSTS", [])
# Where browsers get device-mode destinations' code: analytics.js asks the host of its settings
# (``cdnURL``, that is Segapp) and Segapp redirects there. Segment's CDN serves it publicly.
DEVICE_MODE_CDN = env_str("SEGAPP_DEVICE_MODE_CDN", "https://cdn.segment.com").rstrip("/")
# Delivery: short timeouts keep one slow tool from holding a worker; retries span this window.
DELIVERY_CONNECT_TIMEOUT = env_int("SEGAPP_DELIVERY_CONNECT_TIMEOUT", 3)
DELIVERY_READ_TIMEOUT = env_int("SEGAPP_DELIVERY_READ_TIMEOUT", 5)
DELIVERY_MAX_RESPONSE_BYTES = env_int("SEGAPP_DELIVERY_MAX_RESPONSE_BYTES", 64 * 1024)
DELIVERY_RETRY_WINDOW = env_int("SEGAPP_DELIVERY_RETRY_WINDOW", 4 * 60 * 60)
# First retry after about this many seconds, doubling each time (randomized).
DELIVERY_RETRY_BASE_DELAY = env_int("SEGAPP_DELIVERY_RETRY_BASE_DELAY", 5)
# How long a worker owns a job it is sending, renewed while it sends (``delivery/leases.py``):
# a killed worker's jobs are taken over this long after it died.
DELIVERY_JOB_LEASE = env_int("SEGAPP_DELIVERY_JOB_LEASE", 30)
# Jobs of one instance sent at the same time, across all workers: a tool that hangs holds at
# most this many worker processes, and the others go on sending to the rest.
DELIVERY_INSTANCE_SLOTS = env_int("SEGAPP_DELIVERY_INSTANCE_SLOTS", 2)
# Requests of one job in flight at once to a tool that answers slowly (threads per worker
# process; a quick tool gets them one at a time, ``deliveries.chains``).
DELIVERY_PARALLEL_REQUESTS = env_int("SEGAPP_DELIVERY_PARALLEL_REQUESTS", 8)
# /metrics answers this bearer token; unset, it answers clients on this machine only.
METRICS_TOKEN = env_str("SEGAPP_METRICS_TOKEN")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from our static files (no CDN)
    "django_htmx",
    "segapp",
    "catalog",
    "connections",
    "delivery",
    "privacy",
    "warehouses",
]

MIDDLEWARE = [
    "segapp.logging.RequestLogMiddleware",
    # /healthz, /readyz and /metrics, before the host check (probes call machines by address).
    "segapp.health.ProbeMiddleware",
    # Answers /v1/{batch,track,…} here, before sessions, CSRF and auth (delivery/ingest/).
    "delivery.ingest.middleware.TrackingApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "segapp.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "segapp.api.ratelimit.RateLimitHeadersMiddleware",
]

ROOT_URLCONF = "segapp.urls"
WSGI_APPLICATION = "segapp.wsgi.application"
ASGI_APPLICATION = "segapp.asgi.application"

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
                "segapp.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict:
    if not DATABASE_URL:
        path = VAR_DIR / "segapp.sqlite3"
        private_dir(VAR_DIR)
        private_file(path)  # before SQLite creates it with the umask's mode
        private_siblings(path, ("-wal", "-shm", "-journal"))
        config = dj_database_url.parse(f"sqlite:///{path}")
    else:
        config = dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("SEGAPP_DB_CONN_MAX_AGE", 60)
        )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The web process and the worker write to the same file: WAL lets readers run beside a
        # writer, IMMEDIATE transactions and a busy timeout queue writers instead of failing
        # with "database is locked".
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("CONN_HEALTH_CHECKS", True)
    else:
        raise ImproperlyConfigured("DATABASE_URL must name PostgreSQL or SQLite")
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "segapp.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# How long an invitation link (a new member's way to choose a password) stays usable.
INVITATION_MAX_AGE = _env_at_least("SEGAPP_INVITATION_MAX_AGE", 7 * 24 * 60 * 60, 60)
# Sign-in throttling (console and admin), counted in the database: after this many failed
# sign-ins to one account, or from one client address, further attempts are refused until
# LOGIN_LOCKOUT_SECONDS have passed since the last failure.
LOGIN_FAILURE_LIMIT = _env_at_least("SEGAPP_LOGIN_FAILURE_LIMIT", 5, 1)
LOGIN_ADDRESS_FAILURE_LIMIT = _env_at_least("SEGAPP_LOGIN_ADDRESS_FAILURE_LIMIT", 20, 1)
LOGIN_LOCKOUT_SECONDS = _env_at_least("SEGAPP_LOGIN_LOCKOUT_SECONDS", 15 * 60, 1)
LOGIN_URL = "segapp:login"
LOGIN_REDIRECT_URL = "segapp:home"
LOGOUT_REDIRECT_URL = "segapp:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SEGAPP_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Served over HTTPS (secure cookies): browsers are told to never use plain HTTP for this host.
# SecurityMiddleware sends it on HTTPS responses only.
SECURE_HSTS_SECONDS = (
    _env_at_least("SEGAPP_HSTS_SECONDS", 365 * 24 * 60 * 60, 0) if SESSION_COOKIE_SECURE else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SEGAPP_HSTS_INCLUDE_SUBDOMAINS", False)
if TRUSTED_PROXIES:
    # Our TLS-terminating proxy says whether the browser used HTTPS (it must set this header,
    # overwriting any the client sent).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["segapp.api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["segapp.api.auth.WorkspaceRolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's default parsers, its JSON one replaced by one with a depth cap.
    "DEFAULT_PARSER_CLASSES": [
        "segapp.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["segapp.api.ratelimit.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "segapp.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}


# Public API rate limit: requests per token per fixed window, counted in the database so that all
# web processes share it. 0 turns the limit off.
API_RATE_LIMIT = _env_at_least("SEGAPP_API_RATE_LIMIT", 600, 0)
API_RATE_WINDOW = _env_at_least("SEGAPP_API_RATE_WINDOW", 60, 1)

SPECTACULAR_SETTINGS = {
    "TITLE": "Segapp Public API",
    "DESCRIPTION": (
        "Segment's Public API paths and shapes, so `@segment/public-api-sdk-typescript` works with "
        "`basePath = <host>/api`. Authenticate with `Authorization: Bearer <token>` (a workspace's "
        'Access tokens page). Successful responses wrap their body in `{"data": …}`; errors are '
        '`{"errors": [{"type", "message", "field"?}]}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],  # the schema and docs are public; the API itself is not
    "SCHEMA_PATH_PREFIX": "/api",
    # Input and output shapes are separate serializers already, named as the SDK's models.
    "COMPONENT_SPLIT_REQUEST": False,
    "COMPONENT_SPLIT_PATCH": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Status sets that several answers share, named once (warehouses' connection tests and
    # selective sync).
    "ENUM_NAME_OVERRIDES": {
        "ConnectionStateEnum": ["CONNECTED", "FAILED"],
        "ConnectionAddedEnum": ["CONNECTED"],
        "SelectiveSyncStatusEnum": ["UPDATED", "UNCHANGED"],
        "StatusEnum": ["SUCCESS"],
        "RegulationStatusEnum": "privacy.models.RegulationStatus.values",
    },
}

# Celery. The database is the source of truth; the broker only says "there is work".
CELERY_BROKER_URL = CELERY_BROKER_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = private_dir(VAR_DIR / "broker")
    for _sub in ("queue", "processed", "control"):
        private_dir(_broker_dir / _sub)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.2,  # seconds; the default 1s makes every task wait
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Keep reconnecting to a broker that went away for as long as it takes (the default gives up
# after 100 attempts, some 45 minutes, and the worker exits, taking its sweepers with it).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Tracking API and routing (delivery/). The tracking API publishes a routing task after its
# events are committed; when the broker is down the sweeper sends it later, so publishing must
# fail fast rather than retry for seconds (kombu's default) while the client waits.
if not CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.1,
    }
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        CELERY_BROKER_TRANSPORT_OPTIONS |= {"socket_connect_timeout": 1, "socket_timeout": 5}
# Seconds: how often the sweeper runs, and how long a batch may wait for its routing task
# before the sweeper sends another.
ROUTING_SWEEP_INTERVAL = env_int("SEGAPP_ROUTING_SWEEP_INTERVAL", 15)
ROUTING_SWEEP_GRACE = env_int("SEGAPP_ROUTING_SWEEP_GRACE", 30)
if ROUTING_SWEEP_INTERVAL < 1 or ROUTING_SWEEP_GRACE < 1:
    raise ImproperlyConfigured("SEGAPP_ROUTING_SWEEP_INTERVAL and _GRACE must be at least 1")
# Periodic sweeps: task name → seconds between runs. Every worker sends them when due, and one
# run acts per interval (segapp/sweeps.py), so no separate scheduler is needed; a ``celery beat``
# may still run and is harmless.
SWEEPS = {
    "delivery.tasks.requeue_unrouted_batches": ROUTING_SWEEP_INTERVAL,
    "delivery.tasks.dispatch_due_jobs": env_int("SEGAPP_DISPATCH_INTERVAL", 2),
    "delivery.tasks.compact_counters": 600,
    "delivery.tasks.prune_seen_messages": 3600,
    "warehouses.tasks.start_due_syncs": env_int("SEGAPP_WAREHOUSE_SWEEP_INTERVAL", 60),
    "delivery.tasks.advance_replays": 1,
    "delivery.tasks.keep_archive": env_int("SEGAPP_RETENTION_INTERVAL", 600),
    "delivery.tasks.erase_archive": env_int("SEGAPP_ERASURE_INTERVAL", 60),
    "warehouses.tasks.erase_warehouses": env_int("SEGAPP_ERASURE_INTERVAL", 60),
    # Privacy Inbox: a sample of each source's new events, off the tracking API's path.
    "delivery.tasks.discover_fields": 15,
}
# Warehouses (warehouses/): seconds a warehouse gets to accept a connection and to run one
# statement, and how long a worker holds a sync before another may take it over (a crashed
# worker's sync resumes after it).
WAREHOUSE_CONNECT_TIMEOUT = env_int("SEGAPP_WAREHOUSE_CONNECT_TIMEOUT", 10)
WAREHOUSE_STATEMENT_TIMEOUT = env_int("SEGAPP_WAREHOUSE_STATEMENT_TIMEOUT", 120)
WAREHOUSE_SYNC_LEASE = env_int("SEGAPP_WAREHOUSE_SYNC_LEASE", 300)
# The event archive keeps a workspace's events this many days unless the workspace chooses
# otherwise, and never longer than the maximum (delivery/retention.py).
ARCHIVE_RETENTION_DAYS = env_int("SEGAPP_ARCHIVE_RETENTION_DAYS", 30)
ARCHIVE_MAX_RETENTION_DAYS = env_int("SEGAPP_ARCHIVE_MAX_RETENTION_DAYS", 90)
if not 1 <= ARCHIVE_RETENTION_DAYS <= ARCHIVE_MAX_RETENTION_DAYS:
    raise ImproperlyConfigured(
        "SEGAPP_ARCHIVE_RETENTION_DAYS must be between 1 and SEGAPP_ARCHIVE_MAX_RETENTION_DAYS"
    )
# Replay (delivery/replays.py): events per second a replay sends unless it asks for another
# rate, the most it may ask for, and how many of its jobs may wait to be sent before it routes
# more (a slow tool slows its replay down instead of piling up work).
REPLAY_RATE = env_int("SEGAPP_REPLAY_RATE", 500)
REPLAY_MAX_RATE = env_int("SEGAPP_REPLAY_MAX_RATE", 5000)
REPLAY_WAITING_JOBS = env_int("SEGAPP_REPLAY_WAITING_JOBS", 20)
# Replay's jobs hold at most this many worker processes across the deployment at once, and carry
# at most this many events each: live jobs always find a process free, and wait for a short
# replay job at worst.
REPLAY_SLOTS = env_int("SEGAPP_REPLAY_SLOTS", 1)
REPLAY_JOB_EVENTS = env_int("SEGAPP_REPLAY_JOB_EVENTS", 50)
CELERY_BEAT_SCHEDULE = {name: {"task": name, "schedule": every} for name, every in SWEEPS.items()}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "segapp.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env_str("SEGAPP_LOG_LEVEL", "INFO")},
    "loggers": {
        # Our middleware writes the one line per request; Django's own would repeat it.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # Our task signals write the one line per task.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    },
}
