"""Settings shared by every environment, read from the environment.

Development defaults are deliberately usable out of the box (SQLite, a local Redis, a
development master key); `registry.settings.production` refuses to start without real values.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("REGISTRY_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get(
    "SECRET_KEY", "dev-insecure-secret-key-change-me-in-production-0123456789"
)
DEBUG = env_bool("DEBUG", False)

# The registry's public host; it names every registry DID (did:web:{host}...), so it must not
# change once DIDs are issued. A port is allowed and is percent-encoded inside DIDs.
REGISTRY_HOST = os.environ.get("REGISTRY_HOST", "localhost:8000")
REGISTRY_SCHEME = os.environ.get(
    "REGISTRY_SCHEME",
    "http" if REGISTRY_HOST.split(":")[0] in {"localhost", "127.0.0.1"} else "https",
)
REGISTRY_BASE_URL = f"{REGISTRY_SCHEME}://{REGISTRY_HOST}"

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "ALLOWED_HOSTS", f"{REGISTRY_HOST.split(':')[0]},localhost,127.0.0.1,testserver"
    ).split(",")
    if h.strip()
]

# Master keys that encrypt private keys at rest: "kid:base64url(32 bytes)" entries, comma
# separated, the first being the one new keys are encrypted under. Older entries stay so that
# keys encrypted under them can still be read until `rotate_master_key` re-encrypts them.
REGISTRY_MASTER_KEYS = os.environ.get(
    "REGISTRY_MASTER_KEYS",
    # Development only: production settings refuse this value.
    "dev-1:ZGV2ZWxvcG1lbnQtbWFzdGVyLWtleS1ub3Qtc2VjcmU",
)

# did:web resolution of hosts other than our own (SSRF guard, limits, cache).
DID_WEB_ALLOW_PRIVATE_ADDRESSES = env_bool("DID_WEB_ALLOW_PRIVATE_ADDRESSES", False)
DID_WEB_ALLOW_HTTP = env_bool("DID_WEB_ALLOW_HTTP", False)
DID_WEB_TIMEOUT_SECONDS = float(os.environ.get("DID_WEB_TIMEOUT_SECONDS", "5"))
DID_WEB_MAX_BYTES = int(os.environ.get("DID_WEB_MAX_BYTES", str(256 * 1024)))
DID_WEB_CACHE_SECONDS = int(os.environ.get("DID_WEB_CACHE_SECONDS", "300"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "identity",
    "registry.participants",
    "registry.credentials",
    "registry.status",
    "registry.anchoring",
    "registry.trust",
    "registry.audit",
    "registry.portal",
    "registry.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # 429 for login POSTs after too many failures from one IP + username (registry.api).
    "registry.api.throttles.LoginThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Access-Control-Allow-Origin: * on the public API (views with cors_public), preflights.
    "registry.api.cors.PublicCorsMiddleware",
    # Cache-Control: no-store on responses to API-key or logged-in requests (personal data).
    "registry.api.no_store.NoStoreForAuthenticatedMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # Server-side binding lets psycopg prepare a statement once it has run a few times on a
    # connection: the hot reads and writes (API key, accreditation, signing key, status entry,
    # issued credential) then skip PostgreSQL's parse and plan, about 40% of the database's CPU
    # per issuance (bench/issue_verify.py). Turn off for a pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share the file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    # Opening a SQLite connection (and its PRAGMAs) costs more than most queries; benchmarks
    # keep them (SQLITE_CONN_MAX_AGE=60), the default stays one connection per request.
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("SQLITE_CONN_MAX_AGE", "0"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# One cache for every web process and worker (registry/cache.py): a status list's new version,
# recorded by the publishing worker, reaches the verifiers at once; while Redis is unreachable
# each process falls back to its own memory instead of failing requests.
CACHE_URL = os.environ.get("CACHE_URL", REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "registry.cache.ResilientRedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "registry",
        "RETRY_SECONDS": 5,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }
}


CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
# Publishing must never hang a web request while Redis is down: the outbox sweep catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
# Unless this is set, Celery's Django fixup closes every database connection before and after
# each task: a task then opens a new one (7-15 ms for PostgreSQL on the development machine, more
# than a status-list publication's own statements). Connections are kept: registry/celery.py
# closes a broken one or one older than CONN_MAX_AGE around each task, as Django does around each
# request, and Celery still recycles them every this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_TIMEZONE = "UTC"
# One queue name for web, worker and beat; integration tests give each run its own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")

# Anchoring log (registry.anchoring): backends every anchored leaf goes to (the built-in Merkle
# log must be listed), the checkpoint origin / note key name, and the entries page size.
ANCHORING_BACKENDS = [
    b.strip()
    for b in os.environ.get(
        "ANCHORING_BACKENDS", "registry.anchoring.backends.MerkleLogBackend"
    ).split(",")
    if b.strip()
]
ANCHORING_LOG_ORIGIN = os.environ.get("ANCHORING_LOG_ORIGIN", f"{REGISTRY_HOST}/log")
ANCHORING_MAX_ENTRIES = int(os.environ.get("ANCHORING_MAX_ENTRIES", "1000"))
CELERY_BEAT_SCHEDULE["anchoring-sweep"] = {
    "task": "anchoring.sweep",
    "schedule": float(os.environ.get("ANCHORING_SWEEP_SECONDS", "60")),
}
# Status lists (registry.status): publish lists whose changes are still in the outbox (a lost
# or never-sent publish message, Redis down when the change was made).
CELERY_BEAT_SCHEDULE["status-outbox-sweep"] = {
    "task": "registry.status.tasks.status_outbox_sweep",
    "schedule": float(os.environ.get("STATUS_SWEEP_SECONDS", "30")),
}
# Verification (registry.credentials): clock skew allowed on issuance and expiration dates.
CREDENTIALS_CLOCK_SKEW_SECONDS = int(os.environ.get("CREDENTIALS_CLOCK_SKEW_SECONDS", "60"))
# Status publishing: after a failed enqueue (Redis down), leave publishing to the outbox sweep
# for this long instead of paying a connection timeout per change.
STATUS_BROKER_BACKOFF_SECONDS = float(os.environ.get("STATUS_BROKER_BACKOFF_SECONDS", "10"))
# Trust registry: sign an IPOfficeAccreditationCredential for each root accreditation.
TRUST_ACCREDITATION_CREDENTIALS = env_bool("TRUST_ACCREDITATION_CREDENTIALS", True)
# Readiness (registry.health, GET /api/ready, manage.py health): a status change waiting longer
# than this to be published makes the report "degraded" (4 sweeps by default).
HEALTH_PUBLISH_LAG_SECONDS = float(
    os.environ.get(
        "HEALTH_PUBLISH_LAG_SECONDS",
        4 * CELERY_BEAT_SCHEDULE["status-outbox-sweep"]["schedule"],
    )
)
# Credentials (registry.credentials): drop presentation challenges expired for a day.
CELERY_BEAT_SCHEDULE["credentials-challenges-purge"] = {
    "task": "registry.credentials.tasks.challenges_purge",
    "schedule": 3600.0,
}
# Idempotency-Key of POST /credentials/issue: a retry within this many hours of the first request
# gets its credential back; after it the key is forgotten (the lookup ignores it, the hourly purge
# clears it; the credential stays) and the same key issues anew. 24 hours, as Stripe's.
IDEMPOTENCY_KEY_RETENTION_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_RETENTION_HOURS", "24"))
if IDEMPOTENCY_KEY_RETENTION_HOURS < 1:
    # 0 would turn retries into new issuances; a negative window would purge fresh keys.
    raise ImproperlyConfigured("IDEMPOTENCY_KEY_RETENTION_HOURS must be at least 1")
CELERY_BEAT_SCHEDULE["credentials-idempotency-keys-purge"] = {
    "task": "registry.credentials.tasks.idempotency_keys_purge",
    "schedule": 3600.0,
}
# A periodic task not started within its own interval is dropped, the next one does its work:
# otherwise the runs beat queues while no worker is up (about 180 an hour) all run when one is.
for _entry in CELERY_BEAT_SCHEDULE.values():
    _entry.setdefault("options", {}).setdefault("expires", _entry["schedule"])

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Proxies in front of the registry that append the client's address to X-Forwarded-For.
    # 0: none, the client is REMOTE_ADDR (DRF's default, None, would believe any client's
    # X-Forwarded-For and let it pick a fresh rate-limit budget per request).
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
    # Throttles are opt-in per view (`throttle_scope`, or the classes in registry.api.throttles);
    # rates "N/period" with period s, m, h or d. Cache-backed (the default cache).
    "DEFAULT_THROTTLE_RATES": {
        "resolve": os.environ.get("THROTTLE_RESOLVE", "600/min"),
        "verify": os.environ.get("THROTTLE_VERIFY", "300/min"),
        "trust": os.environ.get("THROTTLE_TRUST", "600/min"),
        "public": os.environ.get("THROTTLE_PUBLIC", "600/min"),
    },
}

# Trust registry: how many delegation levels below the registry's own accreditations are
# allowed (1: offices may accredit sub-issuers, which may not accredit further).
TRUST_MAX_DEPTH = int(os.environ.get("TRUST_MAX_DEPTH", "1"))
# Members of this group are registry administrators (as are superusers).
REGISTRY_ADMIN_GROUP = os.environ.get("REGISTRY_ADMIN_GROUP", "registry-administrators")
# Who may view identity's admin screens (DIDs, keys, documents) without model permissions.
IDENTITY_ADMIN_ROLE = "registry.trust.roles.is_registry_admin"
# Failed logins (admin and portal) allowed per client IP + username in LOGIN_THROTTLE_WINDOW
# seconds before further attempts get 429 with Retry-After.
LOGIN_THROTTLE_ATTEMPTS = int(os.environ.get("LOGIN_THROTTLE_ATTEMPTS", "5"))
LOGIN_THROTTLE_WINDOW = int(os.environ.get("LOGIN_THROTTLE_WINDOW", "300"))
# ... and failures from one client IP whatever the usernames (password spraying).
LOGIN_THROTTLE_IP_ATTEMPTS = int(os.environ.get("LOGIN_THROTTLE_IP_ATTEMPTS", "30"))
LOGIN_THROTTLE_PATHS = ["/admin/login/", "/accounts/login/"]
# Emails anyone can ask for (sign-up confirmation, password reset): at most this many per client
# IP, and to one address, in MAIL_THROTTLE_WINDOW seconds; past that nothing is sent.
MAIL_THROTTLE_PER_IP = int(os.environ.get("MAIL_THROTTLE_PER_IP", "20"))
MAIL_THROTTLE_PER_ADDRESS = int(os.environ.get("MAIL_THROTTLE_PER_ADDRESS", "3"))
MAIL_THROTTLE_WINDOW = int(os.environ.get("MAIL_THROTTLE_WINDOW", "3600"))

SPECTACULAR_SETTINGS = {
    "TITLE": "IP Identity Registry API",
    "DESCRIPTION": (
        "DIDs, verifiable credentials and anchored status lists for applicants, agents and "
        "IP offices. Resolution follows the DIF Universal Resolver driver interface."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CredentialStatusValueEnum": "registry.status.apis.STATUS_VALUES",
        "HealthStatusEnum": "registry.health.STATUSES",
    },
}

# Request bodies above this are refused with 413 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(512 * 1024)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "registry@localhost")
