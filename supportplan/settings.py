"""SupportPlan settings: one file, every knob an environment variable (see README, "Configuration")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from supportplan.lib.env import Env

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("SUPPORTPLAN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", True)
SECRET_KEY = env.str("SECRET_KEY", None)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY: it is required when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env.str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "auditlog",
    "axes",
    "supportplan",
    "models_catalog",
    "scope",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's and django-htmx's, stepped over for API requests with an API key (supportplan/middleware.py).
    "supportplan.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # cheap when unused; Django's deploy check names it
    "supportplan.middleware.AuthenticationMiddleware",
    "supportplan.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "supportplan.middleware.HtmxMiddleware",
    "supportplan.audit.AuditContextMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "supportplan.urls"
WSGI_APPLICATION = "supportplan.wsgi.application"

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
                "supportplan.context_processors.navigation",
                "operations.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'supportplan.sqlite3'}")}
# Persistent connections: a new PostgreSQL connection per web request or Celery task (Django's default)
# cost a backend start each time, more than most requests' own queries. Checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", 300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, trusting a connection that ended a request cleanly within the last second
    # instead of sending SELECT 1 before every request (supportplan/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "supportplan.db.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication and sessions -------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "plan-list"
LOGOUT_REDIRECT_URL = "login"
# Absolute lifetime: a session re-authenticates after 12 hours however active it was.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE_SECONDS", 12 * 3600, minimum=300, maximum=30 * 24 * 3600)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# django-axes: lock a (username, IP) pair, not a whole office behind one IP, and only for a while.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = env.minutes("AXES_COOLOFF_MINUTES", 15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", True)

# --- Security in production -----------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Internationalisation and time ----------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env.choice(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend",
    [
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.smtp.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    ],
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "SupportPlan <supportplan@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Notifications (operations.notify) ------------------------------------------------------
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", 8, minimum=1, maximum=50)
# A notice claimed ("sending") this long ago lost its message or its worker: the sweep claims it again.
NOTIFY_RECLAIM_AFTER_SECONDS = env.int("NOTIFY_RECLAIM_AFTER_SECONDS", 600, minimum=10, maximum=86400)
# Webhook endpoints must be public https hosts; True only for development and tests.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL", "filesystem://", schemes={"filesystem", "redis", "rediss", "memory", "amqp"}
)
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": 3600}
)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", f"file://{VAR_DIR / 'celery-results'}")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless this is set;
# with it a worker keeps its connection (reopened after this many tasks), and supportplan/celery.py
# applies Django's own rules around each task (CONN_MAX_AGE, health checks, broken connections).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 300, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=5)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if CELERY_TASK_SOFT_TIME_LIMIT >= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_SOFT_TIME_LIMIT must be below CELERY_TASK_TIME_LIMIT.")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "supportplan.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "supportplan.api_defaults.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["supportplan.api_defaults.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"principal": env.str("API_THROTTLE_RATE", "1200/minute")},
    "EXCEPTION_HANDLER": "supportplan.api_defaults.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "supportplan.api_defaults.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SupportPlan API",
    "DESCRIPTION": "Plans, their support model and operations. Authenticate with a session or "
    "`Authorization: Api-Key <key>` (a key is scoped to one plan).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SupportModelKindEnum": "models_catalog.models.ModelKind",
        "PartyKindEnum": "models_catalog.models.PartyKind",
        "AgreementKindEnum": "models_catalog.models.AgreementKind",
        "SlaPhaseEnum": "operations.models.SlaPhase",
        "DeliveryStatusEnum": "operations.models.notifications.DeliveryStatus",
        "EventTypeEnum": "operations.models.notifications.EventType",
        "OccurrenceStatusEnum": "operations.models.maintenance.OccurrenceStatus",
        "OccurrenceStateEnum": "operations.models.maintenance.OccurrenceState",
        "ReadinessStatusEnum": "scope.readiness_models.ReadinessStatus",
        "GateActionEnum": "scope.readiness_models.GateAction",
        "EscalationActionEnum": "operations.models.EscalationAction",
        "PlanPhaseEnum": "supportplan.models.Phase",
    },
}

# --- Audit trail ----------------------------------------------------------------------------
AUDITLOG_LOGENTRY_MODEL = "supportplan.AuditEntry"
# auditlog's migrations would create its own (swapped-out, unused) entry table, whose foreign key
# to users blocks test flushes; without them Django creates no table for the swapped model.
MIGRATION_MODULES = {"auditlog": None}
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

LOG_LEVEL = env.choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

SUPPORTPLAN = {
    # Update an API key's last-used time at most this often, so reads don't each cost a write.
    "API_KEY_LAST_USED_RESOLUTION": timedelta(minutes=1),
}

for directory in (
    VAR_DIR,
    VAR_DIR / "broker",
    VAR_DIR / "broker-processed",
    VAR_DIR / "celery-results",
    STATIC_ROOT,
):
    directory.mkdir(parents=True, exist_ok=True)
