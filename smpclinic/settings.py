"""SMP Clinic settings: one module, driven by environment variables.

Every variable read here is listed in README.md with its default. With nothing set
the app runs on SQLite inside the checkout with DEBUG off.
"""

import datetime
import sys
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Commands that only read the models never sign anything, so they run without a key
# (makemigrations --check in lint and hooks). Everything else needs one when DEBUG is off.
KEYLESS_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "help", "version"}

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # nosec B105  # DEBUG only
    elif Path(sys.argv[0]).name == "manage.py" and sys.argv[1:2] and sys.argv[1] in KEYLESS_COMMANDS:
        SECRET_KEY = get_random_secret_key()
    else:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "artists",
    "cases",
    # Last, so its post_migrate hook sees every other app's permissions.
    "smpclinic",
]

MIDDLEWARE = [
    # /healthz and /readyz, answered before anything else runs (smpclinic/health.py).
    "smpclinic.health.HealthCheckMiddleware",
    # The request id and the one log line per request (smpclinic/requestlog.py).
    "smpclinic.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Two-factor: OTPMiddleware says whether the session passed its code; ours keeps
    # anyone who owes one on the code or set-up page (smpclinic/twofactor.py).
    "django_otp.middleware.OTPMiddleware",
    "smpclinic.twofactor.TwoFactorMiddleware",
    "smpclinic.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "smpclinic.middleware.ClinicTimeZoneMiddleware",
    "smpclinic.middleware.IdleLogoutMiddleware",
    # Who saw what: one INSERT per request that read clinical data (or was refused one).
    "cases.audit.AccessLogMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a lockout raised during login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "smpclinic.urls"

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
                "smpclinic.context_processors.user_roles",
                "smpclinic.context_processors.clinic",
            ],
            "builtins": ["smpclinic.templatetags.clinic"],
        },
    },
]

# Inputs, selects and text areas drawn without their templates, with the same markup
# (smpclinic/forms_renderer.py); other widgets and forms use Django's templates.
FORM_RENDERER = "smpclinic.forms_renderer.FormRenderer"

WSGI_APPLICATION = "smpclinic.wsgi.application"

# Database: SQLite in the checkout unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers instead of failing with "database is
    # locked" when two requests write at once; WAL lets readers go on meanwhile.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file (not :memory:) so that tests with several threads share one database.
    _db["TEST"] = {"NAME": env.str("DJANGO_TEST_SQLITE_NAME", default=str(BASE_DIR / ".test-db.sqlite3"))}
else:
    _db["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
if _db["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the pages' queries return a few rows, and compiling a plan that
    # PostgreSQL guesses is costly took longer than running it (266 of 481 ms for the
    # review queue at 100,000 clients). Sorts of up to 16 MB in memory: a report's
    # COUNT(DISTINCT …) over a year of issues at 100,000 clients sorts about 5 MB, which
    # the default 4 MB sent to disk (74 → 62 ms a query).
    _options = _db.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off -c work_mem=16MB".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username/address before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "smpclinic.auth_backends.ModelBackend",
]

# Brute force: 5 wrong passwords lock out that username from that address, and 5 from one
# address lock out the address (a guesser trying many usernames), for 15 minutes. The
# username+address pair, not the username alone, so a guesser elsewhere cannot lock a
# colleague out of the front desk. Failures are logged by axes without the password.
OTP_TOTP_ISSUER = env.str("DJANGO_OTP_ISSUER", default="SMP Clinic")  # the name shown in the app

# The address axes counts failures by is the one the rest of the app records: behind
# DJANGO_TRUSTED_PROXIES reverse proxies, the client's as the nearest proxy saw it.
AXES_CLIENT_IP_CALLABLE = "smpclinic.http.client_ip"
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Managers unlock people on /login/lockouts/; axes' own admin pages would add a second way in.
AXES_ENABLE_ADMIN = False
AXES_LOCKOUT_CALLABLE = "smpclinic.lockouts.lockout_response"  # 429, says when to try again
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password1", "new_password2"]

# Password reset requests (smpclinic/throttle.py): per e-mail address and per client address,
# counted in the cache over a window.
SMP_RESET_LIMIT_PER_EMAIL = env.int("DJANGO_RESET_LIMIT_PER_EMAIL", default=3)
SMP_RESET_LIMIT_PER_IP = env.int("DJANGO_RESET_LIMIT_PER_IP", default=10)
SMP_RESET_WINDOW_MINUTES = env.int("DJANGO_RESET_WINDOW_MINUTES", default=60)

# Sessions are database rows, never a process's memory: every web process and machine
# reads the same ones (tests/deploy/test_multiprocess.py signs in on one, goes on on another).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# A session ends this long after login whatever the activity (on top of the idle logout).
SMP_SESSION_MAX_HOURS = env.int("DJANGO_SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = SMP_SESSION_MAX_HOURS * 3600

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "smpclinic.passwords.ClinicUserMinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
# The server's zone; pages and e-mails use the clinic's own (Clinic settings), activated
# per request by smpclinic.middleware.ClinicTimeZoneMiddleware.
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Europe/London")

# Per-process memory by default; a shared cache (e.g. redis://…, with the redis package)
# makes a Clinic settings change visible to every process at once.
CACHES = {"default": env.cache_url("DJANGO_CACHE_URL", default="locmemcache://")}
# The app speaks British English only and has no translations of its own. With
# translation off, Django's own texts are its English originals (the same words as its
# en-GB catalogue) and every gettext call skips the per-request language lookup, which
# pages with many dates and labels paid hundreds of times; dates and number formats
# still follow LANGUAGE_CODE (en-GB: "25/12/2026" is read as 25 December).
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` puts the files whitenoise (or nginx) serves.
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]

# Photos are private: MEDIA_ROOT is never exposed through a URL; views stream files
# after a permission check.
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/private-media-not-served/"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# `manage.py backup` writes its folders here unless given another (smpclinic/backup.py).
SMP_BACKUP_DIR = Path(env.str("DJANGO_BACKUP_DIR", default=str(BASE_DIR / "backups")))

# Photos (cases/imaging.py): size and pixel limits checked on every upload. Django itself
# does not cap an uploaded file's size.
SMP_PHOTO_MAX_BYTES = env.int("DJANGO_PHOTO_MAX_BYTES", default=25 * 1024 * 1024)
SMP_PHOTO_MAX_PIXELS = env.int("DJANGO_PHOTO_MAX_PIXELS", default=50_000_000)
# A whole upload batch: the request decodes and re-encodes each original (the screen copy
# and thumbnail are made by a task), so the total bounds its time: 400 MP is eight photos
# at the 50 MP cap, well inside a 30-second worker timeout.
SMP_PHOTO_MAX_BATCH_PIXELS = env.int("DJANGO_PHOTO_MAX_BATCH_PIXELS", default=400_000_000)

# Photos on S3-compatible object storage instead of MEDIA_ROOT: DJANGO_PHOTO_STORAGE=s3.
# Objects stay private (no ACL); the serving views hand out pre-signed URLs that expire
# after DJANGO_PHOTO_URL_EXPIRY seconds. Credentials left unset fall back to boto3's own
# chain (instance role, ~/.aws).
if env.str("DJANGO_PHOTO_STORAGE", default="local") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": env.int("DJANGO_PHOTO_URL_EXPIRY", default=60),
            "default_acl": None,
            "file_overwrite": False,
        },
    }

# Content Security Policy: every script, style, font and image comes from this site
# (Bootstrap is vendored; no inline <script> or style= anywhere). Photos on S3 are
# fetched from the storage's own origin through pre-signed URLs.
PHOTO_ORIGINS = []
if STORAGES["default"]["BACKEND"] == "storages.backends.s3.S3Storage":
    _endpoint = STORAGES["default"]["OPTIONS"]["endpoint_url"]
    PHOTO_ORIGINS = [_endpoint.rstrip("/") if _endpoint else "https://*.amazonaws.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *PHOTO_ORIGINS],  # data: for Bootstrap's icon SVGs in CSS
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
    ),
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("DJANGO_EMAIL_USE_SSL", default=False)
# A stalled mail server must not hold a reminder worker forever.
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="clinic@localhost")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_TAGS = {40: "danger"}  # Bootstrap's name for messages.ERROR

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG and env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Logs go to standard error, for systemd's journal or the container runtime to keep:
# one line per request on smpclinic.requests (method, path without its query string,
# status, duration, user id; smpclinic/requestlog.py), and every line carries the id of
# the request it belongs to. DJANGO_LOG_FORMAT=json writes one JSON object per line.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("DJANGO_LOG_FORMAT is 'text' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "smpclinic.requestlog.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "smpclinic.requestlog.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
    "loggers": {
        "smpclinic.requests": {"level": "INFO" if env.bool("DJANGO_REQUEST_LOG", default=True) else "WARNING"},
    },
}

# Background work (reminder e-mails) through the Django Tasks API; the database backend
# needs no other server. A worker drains the queue: `manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": env.str("DJANGO_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

# The site's address as people reach it (e.g. https://clinic.example.org), for links in
# e-mails sent outside a request: reminders and digests. Empty: those e-mails carry no links.
SMP_SITE_URL = env.str("DJANGO_SITE_URL", default="").rstrip("/")

# Behind a TLS-terminating reverse proxy: how many proxies append to X-Forwarded-For (so
# signatures record the client's address, not the proxy's), and whether the proxy's
# X-Forwarded-Proto says the request came over HTTPS (so links are https://).
SMP_TRUSTED_PROXIES = env.int("DJANGO_TRUSTED_PROXIES", default=0)
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production over HTTPS only: redirect plain HTTP and tell browsers to stay on HTTPS.
# Off by default so `make run` works on http://127.0.0.1.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)

# Client portal invitations: a one-time link to set a password, valid this many hours.
SMP_INVITATION_VALID_HOURS = env.int("DJANGO_INVITATION_VALID_HOURS", default=72)
