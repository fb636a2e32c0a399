"""One settings module, driven by environment variables with safe local defaults.

Every variable is listed in docs/configuration.md.
"""

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
# Run-time state (database, uploads, collected static files) lives outside the code.
VAR_DIR = Path(envstr("DEEPFAKE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])


def _secret_from_file(name: str) -> str:
    # Local default: a random secret generated once and kept beside the database, so it
    # survives restarts and is never committed.
    path = VAR_DIR / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        path.chmod(0o600)
        return key


def _secret_key() -> str:
    return envstr("DJANGO_SECRET_KEY", "") or _secret_from_file("secret_key")


SECRET_KEY = _secret_key()
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 32 characters long")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served from our own static files
    "accounts",
    "detection",
    "webhooks",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "deepfake_site.urls"
WSGI_APPLICATION = "deepfake_site.wsgi.application"

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

# One machine: SQLite (the default). Several: PostgreSQL, given as DATABASE_URL
# (postgres://user:password@host:5432/name), shared by every web server and worker.
DATABASE_URL = envstr("DATABASE_URL", "")
if DATABASE_URL:
    import dj_database_url

    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                # The web server and the worker share this file: wait for locks instead of
                # failing, take the write lock up front (no upgrade deadlocks), and let readers
                # run beside a writer (WAL).
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

# With REDIS_URL (redis://host:6379/0) Redis is the job queue's broker and the cache every
# process shares (API throttling counts per account across all web servers, not per process).
REDIS_URL = envstr("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "deepfake",
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "detection:job_list"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploaded videos and face crops are private: never served from a public URL, only through
# views that check who is asking.
MEDIA_ROOT = Path(envstr("DEEPFAKE_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploads above this size go to a temporary file on disk, never held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Detection --------------------------------------------------------------------------------
DETECTION_MAX_UPLOAD_BYTES = envint("DETECTION_MAX_UPLOAD_MB", 500) * 1024 * 1024
DETECTION_FRAMES_TO_SAMPLE = envint("DETECTION_FRAMES", 32)
DETECTION_FACE_DETECTOR = envstr("DETECTION_FACE_DETECTOR", "blazeface")
if DETECTION_FACE_DETECTOR not in ("blazeface", "haar"):
    raise ImproperlyConfigured("DETECTION_FACE_DETECTOR must be blazeface or haar")
# A full face search of the whole frame at least every N sampled frames; in between, faces are
# looked for around where they were (a third of the cost). 1: a full search of every frame.
DETECTION_FULL_LOOK_EVERY = max(1, envint("DETECTION_FULL_LOOK_EVERY", 4))
DETECTION_MAX_DURATION_S = envfloat("DETECTION_MAX_DURATION_S", 600.0)
# The model used when the database has no active model version (e.g. `analyse_video` on a
# fresh checkout): the one shipped in the repository.
DETECTION_DEFAULT_MODEL_SPEC = Path(
    envstr(
        "DETECTION_DEFAULT_MODEL_SPEC", str(BASE_DIR / "detection" / "models" / "lite0_sbi_v6.json")
    )
)

# --- Worker (django-q2) -----------------------------------------------------------------------
DETECTION_JOB_TIMEOUT_S = envint("DETECTION_JOB_TIMEOUT_S", 900)
Q_CLUSTER = {
    "name": envstr("DETECTION_QUEUE_NAME", "deepfake"),
    # The database is the broker until Redis is configured.
    **({"redis": REDIS_URL} if REDIS_URL else {"orm": "default"}),
    "workers": envint(
        "DETECTION_WORKERS", 1
    ),  # each holds a model (0.4 GB peak; 1.0 GB with heatmaps)
    "timeout": DETECTION_JOB_TIMEOUT_S,
    # Must exceed the timeout, or a slow job is handed to a second worker while it still runs.
    "retry": DETECTION_JOB_TIMEOUT_S + 120,
    "max_attempts": 1,  # job state lives on our rows; a failure is recorded, not retried blindly
    "catch_up": False,
    "poll": envfloat("DETECTION_QUEUE_POLL_S", 0.5),
    "save_limit": 1000,
    "ack_failures": True,
    "sync": envbool("DETECTION_SYNC", False),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- API (Django REST framework) --------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so an anonymous client is answered 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": envstr("API_THROTTLE_USER_RATE", "600/min"),
        "anon": envstr("API_THROTTLE_ANON_RATE", "30/min"),
        "uploads": envstr("API_THROTTLE_UPLOAD_RATE", "60/min"),
    },
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "deepfake_site.api_common.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "deepfake_site.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "deepfake_site.api_common.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Deepfake moderation API",
    "DESCRIPTION": "Upload videos, poll analyses, receive signed webhooks. "
    "Every error answers {code, message, field_errors}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,  # multipart upload bodies get their own component
    "SWAGGER_UI_DIST": "SIDECAR",  # no CDN: assets come from drf-spectacular-sidecar
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "detection.models.JobStatus",
        "VerdictEnum": "detection.models.Verdict",
        "ReviewStateEnum": "moderation.models.ReviewState",
        "ReviewDecisionEnum": "moderation.models.Decision",
        "StatementDecisionEnum": [("manipulated", "manipulated"), ("authentic", "authentic")],
        "WebhookEventStateEnum": "webhooks.models.WebhookEvent.State",
        "WebhookEventTypeEnum": "webhooks.models.WebhookEvent.Type",
    },
}

# --- Webhooks ---------------------------------------------------------------------------------
# Signs every webhook body (HMAC-SHA256); clients verify with the same secret.
WEBHOOK_SECRET = envstr("DEEPFAKE_WEBHOOK_SECRET", "") or _secret_from_file("webhook_secret")
WEBHOOK_TIMEOUT_S = envfloat("DEEPFAKE_WEBHOOK_TIMEOUT_S", 10.0)
WEBHOOK_MAX_ATTEMPTS = envint("DEEPFAKE_WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_BACKOFF_S = envfloat("DEEPFAKE_WEBHOOK_BACKOFF_S", 30.0)  # doubles after each failure
# Callback URLs on loopback/private/link-local/reserved addresses are refused (the server must
# not be an open proxy into its own network) unless this is set, e.g. for local testing.
WEBHOOK_ALLOW_PRIVATE_URLS = envbool("DEEPFAKE_WEBHOOK_ALLOW_PRIVATE_URLS", False)

# --- Moderation -------------------------------------------------------------------------------
# Videos with no face go to a moderator (true) or are auto-cleared (false).
MODERATION_NO_FACE_TO_REVIEW = envbool("MODERATION_NO_FACE_TO_REVIEW", True)
# Videos scored below the model version's uncertain band but at or above this probability go to
# a moderator too (more recall for more reviewing); unset: the version's band alone decides.
MODERATION_REVIEW_FLOOR = envfloat("MODERATION_REVIEW_FLOOR", None)
if MODERATION_REVIEW_FLOOR is not None and not 0.0 <= MODERATION_REVIEW_FLOOR <= 1.0:
    raise ImproperlyConfigured("MODERATION_REVIEW_FLOOR must be a probability between 0 and 1")
# A claim expires after this long, so nothing stays locked by someone who left.
MODERATION_CLAIM_MINUTES = envint("MODERATION_CLAIM_MINUTES", 20)
# Grad-CAM heatmaps: for how many of a video's most suspicious crops, and whether the worker
# computes them as soon as an item is routed to review (otherwise on demand from the page).
MODERATION_HEATMAP_CROPS = envint("MODERATION_HEATMAP_CROPS", 6)
MODERATION_HEATMAPS_ON_ROUTE = envbool("MODERATION_HEATMAPS_ON_ROUTE", True)

# Deadlines, in minutes, per routing reason or queue (a reason wins over its queue): a flagged
# fake waits at most an hour by default. Missed deadlines escalate to a senior moderator
# (`manage.py moderation_deadlines`, run every minute by the worker's schedule).
MODERATION_DEADLINES = {
    "routed_flagged": 60,
    "routed_uncertain": 24 * 60,
    "routed_no_face": 48 * 60,
    "routed_review_floor": 48 * 60,
    "appeal": 48 * 60,
    "escalated": 4 * 60,
    "flagged": 60,
    "needs_review": 24 * 60,
    "appealed": 48 * 60,
}
for _pair in envlist("MODERATION_DEADLINES", []):
    _key, _, _minutes = _pair.partition("=")
    try:
        MODERATION_DEADLINES[_key.strip()] = int(_minutes)
    except ValueError:
        raise ImproperlyConfigured(
            f"MODERATION_DEADLINES is a list like routed_flagged=60,appeal=2880, not {_pair!r}"
        ) from None
# This share of first decisions (0..1) is sent blind to a second moderator.
MODERATION_DOUBLE_REVIEW_RATE = envfloat("MODERATION_DOUBLE_REVIEW_RATE", 0.1)
if not 0.0 <= MODERATION_DOUBLE_REVIEW_RATE <= 1.0:
    raise ImproperlyConfigured("MODERATION_DOUBLE_REVIEW_RATE must be between 0 and 1")
# Uploaders see the verdict and the statement of reasons, but no per-frame scores or face
# crops (an adversarial uploader could edit a fake until it passes). Moderators see all.
MODERATION_HIDE_SCORES_FROM_UPLOADERS = envbool("MODERATION_HIDE_SCORES_FROM_UPLOADERS", True)
# Notifications of new flags, appeals and missed deadlines: e-mail to moderators (their
# preference) and, when set, a signed webhook to this URL (the job webhooks' delivery).
MODERATION_WEBHOOK_URL = envstr("MODERATION_WEBHOOK_URL", "")
SITE_URL = envstr("DEEPFAKE_SITE_URL", "http://127.0.0.1:8000")

# --- E-mail -----------------------------------------------------------------------------------
# Local default: print e-mails to the console. Production: django.core.mail.backends.smtp...
EMAIL_BACKEND = envstr("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = envstr("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("DJANGO_EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = envstr("DJANGO_DEFAULT_FROM_EMAIL", "moderation@localhost")
