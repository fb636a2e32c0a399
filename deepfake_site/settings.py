"""One settings module, driven by environment variables with safe local defaults.

Every variable is listed in docs/configuration.md.
"""

import datetime as dt
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
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served from our own static files
    "accounts",
    "detection",
    "webhooks",
    "moderation",
    "orchestration",  # its schedules and commands (reconcile_jobs, media_check)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (static files stay cacheable): every other answer is private, no-store.
    "deepfake_site.middleware.PrivateNoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Who is asking is known before CSRF reads a body, so that an upload from someone not
    # logged in, or over the limit, is refused before a byte of it is written.
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "detection.upload_guard.UploadGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into its answer
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
else:
    # One machine: files beside the database, so the web server's processes and the worker
    # share throttle and quota counters (a per-process memory cache would not).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": "deepfake",
        }
    }

AUTH_USER_MODEL = "accounts.User"
# Login throttling and lockout (django-axes): the lockout check runs before the password check.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
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
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Production switches (deploy/production.env.example sets them all) ------------------------
# Behind TLS: cookies only over HTTPS, redirect plain HTTP, HSTS.
SESSION_COOKIE_SECURE = envbool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = envint("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("DJANGO_SECURE_HSTS_PRELOAD", False)
# The TLS-terminating proxy's header that says the original request was HTTPS, e.g.
# "HTTP_X_FORWARDED_PROTO,https". Set it only behind such a proxy (it strips the header).
_proxy_ssl_header = envlist("DJANGO_SECURE_PROXY_SSL_HEADER", [])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured("DJANGO_SECURE_PROXY_SSL_HEADER must be HEADER,value")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) or None
# How many reverse proxies stand in front of the site. 0: X-Forwarded-For is never trusted
# (the client address is REMOTE_ADDR); N: the address the Nth proxy from us saw.
PROXY_COUNT = envint("DEEPFAKE_PROXY_COUNT", 0)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("DEEPFAKE_PROXY_COUNT must be 0 or more")

# Content-Security-Policy (django-csp): scripts and styles only from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- Login throttling (django-axes) ------------------------------------------------------------
# After this many failed logins an account, and separately a client address, is locked out
# (web login and the API token endpoint alike) for the cool-off time.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False
# The client address as DRF's throttles read it (NUM_PROXIES below): X-Forwarded-For only
# behind PROXY_COUNT proxies, and then the entry the outermost one appended.
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"

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
# A request body that is not a file (form fields, JSON) may not exceed this.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Nesting deeper than this in a JSON body is refused (400), never a RecursionError.
API_JSON_MAX_DEPTH = envint("API_JSON_MAX_DEPTH", 32)

# --- Detection --------------------------------------------------------------------------------
DETECTION_MAX_UPLOAD_BYTES = envint("DETECTION_MAX_UPLOAD_MB", 500) * 1024 * 1024
# Per account, shared by every process (uploads counted in the cache, bytes in the database):
# at most this many uploads a minute (web form and API together) and this much stored video.
DETECTION_UPLOADS_PER_MINUTE = envint("DETECTION_UPLOADS_PER_MINUTE", 60)
DETECTION_USER_STORAGE_BYTES = envint("DETECTION_USER_STORAGE_MB", 20 * 1024) * 1024 * 1024
# Uploads whose every analysis failed are deleted (file and rows) after this many days by the
# side cluster's daily schedule or `manage.py media_check --delete`. 0: kept forever.
DETECTION_FAILED_UPLOAD_RETENTION_DAYS = envint("DETECTION_FAILED_UPLOAD_RETENTION_DAYS", 30)
DETECTION_FRAMES_TO_SAMPLE = envint("DETECTION_FRAMES", 32)
DETECTION_FACE_DETECTOR = envstr("DETECTION_FACE_DETECTOR", "blazeface")
if DETECTION_FACE_DETECTOR not in ("blazeface", "haar"):
    raise ImproperlyConfigured("DETECTION_FACE_DETECTOR must be blazeface or haar")
# A full face search of the whole frame at least every N sampled frames; in between, faces are
# looked for around where they were (a third of the cost). 1: a full search of every frame.
DETECTION_FULL_LOOK_EVERY = max(1, envint("DETECTION_FULL_LOOK_EVERY", 4))
DETECTION_MAX_DURATION_S = envfloat("DETECTION_MAX_DURATION_S", 600.0)
# The speed profile of uploads that do not choose one: "default" (within 1.5x decode) or
# "thorough" (twice the frames, a full look for faces in each; up to 4x decode).
DETECTION_DEFAULT_PROFILE = envstr("DETECTION_DEFAULT_PROFILE", "default")
if DETECTION_DEFAULT_PROFILE not in ("default", "thorough"):
    raise ImproperlyConfigured("DETECTION_DEFAULT_PROFILE must be default or thorough")
# The model used when the database has no active model version (e.g. `analyse_video` on a
# fresh checkout): the one shipped in the repository.
DETECTION_DEFAULT_MODEL_SPEC = Path(
    envstr(
        "DETECTION_DEFAULT_MODEL_SPEC",
        str(BASE_DIR / "detection" / "models" / "lite0_fusion_v1.json"),
    )
)

# --- Worker (django-q2) -----------------------------------------------------------------------
# Where `import_model` puts the weights of a version new to this site (a retired version's
# weights go back where its record says they were).
DETECTION_MODEL_STORE = Path(envstr("DETECTION_MODEL_STORE", str(VAR_DIR / "models")))
# How many loaded analysers (model versions) a worker process keeps: 2 holds the active version
# and one shadow version (docs/model-lifecycle.md); each costs about 0.4 GB.
DETECTION_ANALYSERS_CACHED = max(1, envint("DETECTION_ANALYSERS_CACHED", 2))
# Versions in state "shadow" score every new upload beside the active one (never routing it);
# False switches shadow scoring off site-wide.
DETECTION_SHADOW_RUNS = envbool("DETECTION_SHADOW_RUNS", True)
# A promotion needs at least this many moderator-decided items both versions scored, unless an
# admin gives an override reason.
MODEL_PROMOTION_MIN_DECIDED = max(1, envint("MODEL_PROMOTION_MIN_DECIDED", 30))
DETECTION_JOB_TIMEOUT_S = envint("DETECTION_JOB_TIMEOUT_S", 900)
# A running job's worker stamps its heartbeat this often; a heartbeat older than the stale age
# means the worker died (killed, machine lost): the job goes back to the queue, at most
# DETECTION_JOB_MAX_ATTEMPTS times in all, then fails with the reason.
DETECTION_HEARTBEAT_S = envfloat("DETECTION_HEARTBEAT_S", 10.0)
DETECTION_HEARTBEAT_STALE_S = envfloat("DETECTION_HEARTBEAT_STALE_S", 60.0)
DETECTION_JOB_MAX_ATTEMPTS = max(1, envint("DETECTION_JOB_MAX_ATTEMPTS", 3))
# A queued job with no message in the broker this long after it was queued was lost (a killed
# cluster held it in memory): the reconciler queues it again.
DETECTION_QUEUE_GRACE_S = envfloat("DETECTION_QUEUE_GRACE_S", 120.0)
# How often the reconciler runs (a django-q2 schedule on the side cluster).
DETECTION_RECONCILE_EVERY_MIN = max(1, envint("DETECTION_RECONCILE_EVERY_MIN", 1))
DETECTION_QUEUE_NAME = envstr("DETECTION_QUEUE_NAME", "deepfake")
# Heatmaps, webhook deliveries and the reconciler run on a cluster of their own
# (`Q_CLUSTER_NAME=<this> manage.py qcluster`, started by `make run`/`make worker`), so an
# analysis never waits behind them.
DETECTION_SIDE_QUEUE_NAME = envstr("DETECTION_SIDE_QUEUE_NAME", f"{DETECTION_QUEUE_NAME}-side")
DETECTION_SIDE_TIMEOUT_S = envint("DETECTION_SIDE_TIMEOUT_S", 600)
Q_CLUSTER = {
    "name": DETECTION_QUEUE_NAME,
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
    "ALT_CLUSTERS": {
        DETECTION_SIDE_QUEUE_NAME: {
            "workers": envint("DETECTION_SIDE_WORKERS", 1),
            "timeout": DETECTION_SIDE_TIMEOUT_S,
            "retry": DETECTION_SIDE_TIMEOUT_S + 120,
        },
    },
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
        "knox.auth.TokenAuthentication",  # hashed tokens that expire
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
    "NUM_PROXIES": PROXY_COUNT,  # throttles trust X-Forwarded-For only behind known proxies
    "DEFAULT_PARSER_CLASSES": [
        "deepfake_site.api_common.DepthLimitedJSONParser",
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
# API tokens (drf-knox): only a hash is stored, each expires, the key is shown once.
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(days=envint("API_TOKEN_TTL_DAYS", 90)),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": None,
    "AUTO_REFRESH": False,
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
# The ports a callback URL may name (empty: any).
WEBHOOK_ALLOWED_PORTS = [
    int(p) for p in envlist("DEEPFAKE_WEBHOOK_ALLOWED_PORTS", ["80", "443", "8080", "8443"])
]

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
