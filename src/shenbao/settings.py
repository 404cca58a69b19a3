"""Settings, all from environment variables with an embedded default (SQLite + local files).

SHENBAO_DATA_DIR       where the SQLite file, media, mail and the generated secret key live (./var)
SHENBAO_DATABASE_URL   e.g. postgres://postgres@127.0.0.1:5432/shenbao (default: SQLite in the data dir)
SHENBAO_SECRET_KEY     default: generated once and kept in the data dir
SHENBAO_DEBUG          1 to enable Django's debug mode
SHENBAO_ALLOWED_HOSTS  comma separated (default: localhost,127.0.0.1,testserver)
SHENBAO_MEDIA_ROOT     uploaded and generated files (default: data dir/media)
SHENBAO_EMAIL_BACKEND  smtp | file | console | locmem (default: file, into data dir/mail)
SHENBAO_SMTP_HOST / _PORT / _USER / _PASSWORD / _TLS, SHENBAO_MAIL_FROM
SHENBAO_REDIS_URL      optional cache and session store (default: local memory cache, sessions in the database);
                       the RQ task queue when SHENBAO_TASKS_BACKEND=rq
SHENBAO_TASKS_BACKEND  where background tasks (mail, long jobs) run: db (default: a queue table in the database,
                       run by `shenbao worker`; several workers on several machines may share one PostgreSQL
                       queue) | rq (Redis at SHENBAO_REDIS_URL, run by `shenbao worker`, i.e. rqworker) |
                       immediate (in the request, no worker: tests and one-off scripts only)
SHENBAO_TASKS_LEASE    seconds without a heartbeat after which a worker counts as dead and its running task is
                       queued again (db and rq backends; default 60; workers beat every lease/4 seconds)
SHENBAO_TASKS_MAX_ATTEMPTS how many workers may die running one task before it is marked failed (default 3)
SHENBAO_TASKS_RQ_TIMEOUT seconds an RQ job may run before RQ stops it (default 14400; RQ's own default is 180)
SHENBAO_TASK_EFFECT_RETENTION_DAYS days a task's effect record (`jobs.once`) is kept before the daily job
                       deletes it (default 30, at least 2)
SHENBAO_HTTPS          1 when served over HTTPS (HSTS, secure cookies, redirect to https)
SHENBAO_PG_JOIN_COLLAPSE_LIMIT PostgreSQL join_collapse_limit for the platform's connections (default 1: the ORM's
                       join order is kept and the planner does not search others; see the database section)
SHENBAO_CONN_MAX_AGE   seconds a database connection is kept between requests (default 600; 0 closes each time)
SHENBAO_WORKERS        gunicorn workers of `shenbao serve` (default 2 × CPUs + 1)
SHENBAO_TRUSTED_PROXY  comma separated addresses of reverse proxies whose client-address header is believed
SHENBAO_PROXY_IP_HEADER that header (default X-Forwarded-For)
SHENBAO_ADMIN_NETWORKS comma separated CIDRs the three administrators may always log in from (with their second factor)
SHENBAO_LOGIN_IP_LIMIT failed logins from one address within SHENBAO_LOGIN_IP_WINDOW_MINUTES (15) that throttle it (20)
SHENBAO_SITE_URL       the platform's address, for links in mails (default http://127.0.0.1:8000)
SHENBAO_DJANGO_ADMIN   1 to open Django's admin at /django-admin/ (default: off, its URLs are 404)
SHENBAO_SITE_NAME      the platform's name (default 科协项目申报平台); SHENBAO_HOME_LABEL / SHENBAO_HOME_HELP: the
                       registration field naming the approving body (default 属地科协（主管科协）) and its help
SHENBAO_PUBLIC_MAIL_DOMAINS comma separated mail domains anyone can have (qq.com …): a shared one is no conflict of
                       interest; replaces the default list of review/conflicts.py
SHENBAO_SQLITE_STOCK   benchmarks only (bench/bench_rush.py): Django's stock SQLite options
SHENBAO_BENCH_QUERY_HEADER benchmarks only (bench/bench_flow.py): SQL query count in a response header
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
# Everything the platform writes (the SQLite file and its journal, media, mail, backups, collected static files)
# is readable by its own account only: files 0600, folders 0700, whatever umask the shell had (R-S7).
os.umask(0o077)
DATA_DIR = Path(os.environ.get("SHENBAO_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if DATA_DIR.stat().st_uid == os.getuid():
    DATA_DIR.chmod(0o700)  # also a data dir made earlier under a laxer umask
# The call files shipped with the project (calls/*.yaml beside src/); overridable for installs elsewhere.
CALLS_DIR = Path(os.environ.get("SHENBAO_CALLS_DIR", BASE_DIR.parent.parent / "calls")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if key := os.environ.get("SHENBAO_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("SHENBAO_DEBUG")
ALLOWED_HOSTS = os.environ.get("SHENBAO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rules",
    "ninja",  # serves the API docs' Swagger UI from local static files (no CDN on intranets)
    "django_tasks",
    "django_tasks_db",
    "shenbao.core",
    "shenbao.orgs",
    "shenbao.calls",
    "shenbao.forms",
    "shenbao.applications",
    "shenbao.documents",
    "shenbao.review",
    "shenbao.projects",
    "shenbao.demo",  # above every stage: it composes them
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shenbao.core.audit_middleware.DjangoAdminSwitchMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # inside WhiteNoise (static files keep their long cache), outside everything else: CSP, no-store
    "shenbao.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shenbao.core.sessions.SessionRenewalMiddleware",  # inside SessionMiddleware: renews the idle time
    "shenbao.core.middleware.ChineseFirstMiddleware",  # before LocaleMiddleware: ignore Accept-Language
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shenbao.core.audit_middleware.AuditContextMiddleware",  # client address, user agent, refusals, downloads
    "django.contrib.messages.middleware.MessageMiddleware",
    "shenbao.core.middleware.BadInputMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shenbao.orgs.middleware.ForcePasswordChangeMiddleware",
    "axes.middleware.AxesMiddleware",
]

# BENCHMARKS ONLY, never in a deployment: bench/bench_flow.py reads each response's SQL query count.
if _env_bool("SHENBAO_BENCH_QUERY_HEADER"):
    MIDDLEWARE.insert(0, "shenbao.core.middleware.QueryCountMiddleware")

ROOT_URLCONF = "shenbao.urls"
WSGI_APPLICATION = "shenbao.wsgi.application"

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
                "shenbao.core.wording.context",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------------
# SQLite must survive a deadline rush: WAL lets readers run beside the writer, the busy timeout makes a
# writer wait instead of failing, and IMMEDIATE transactions take the write lock at BEGIN so that two
# transactions never deadlock upgrading a read lock ("database is locked").
_db_url = os.environ.get("SHENBAO_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'shenbao.sqlite3'}"
# Persistent connections (a gunicorn worker keeps its connection between requests instead of opening one per
# request: on PostgreSQL that is a fork and an authentication each time) with a health check before reuse, so a
# restarted database or a dropped connection costs one reconnect, not an error page.
DATABASES = {"default": dj_database_url.parse(
    _db_url, conn_max_age=int(os.environ.get("SHENBAO_CONN_MAX_AGE", "600")), conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; "
            "PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_shenbao.sqlite3")}
    # BENCHMARKS ONLY, never in a deployment: SHENBAO_SQLITE_STOCK=1 drops the options above (Django's stock
    # SQLite: rollback journal, 5 s timeout, DEFERRED transactions) so that bench/bench_rush.py can show
    # what they are worth in a deadline rush.
    if _env_bool("SHENBAO_SQLITE_STOCK"):
        del DATABASES["default"]["OPTIONS"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL plans a query each time it is sent, and for the ORM's select_related chains (an application
    # with its call, type, unit, version, screening, decision: 12-17 LEFT JOINs) it spent 6-20 ms searching
    # join orders for a query that then ran in 1 ms. The ORM writes joins from the row asked for outwards,
    # which is the order to run them in: join_collapse_limit=1 keeps it (join methods are still chosen), and
    # the application page's query plans in ~1 ms (SHENBAO_PG_JOIN_COLLAPSE_LIMIT; PostgreSQL's default is 8).
    _jcl = int(os.environ.get("SHENBAO_PG_JOIN_COLLAPSE_LIMIT", "1"))
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c join_collapse_limit={_jcl}"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- behind a reverse proxy ----------------------------------------------------------------------
# The client's address comes from the proxy's header only for requests from these addresses (core/http.py).
# Wording that names the issuers (shenbao.core.wording): empty means the 科协 defaults
SHENBAO_SITE_NAME = os.environ.get("SHENBAO_SITE_NAME", "")
SHENBAO_HOME_LABEL = os.environ.get("SHENBAO_HOME_LABEL", "")
SHENBAO_HOME_HELP = os.environ.get("SHENBAO_HOME_HELP", "")

SHENBAO_TRUSTED_PROXIES = [a.strip() for a in os.environ.get("SHENBAO_TRUSTED_PROXY", "").split(",") if a.strip()]
SHENBAO_PROXY_IP_HEADER = "HTTP_" + os.environ.get("SHENBAO_PROXY_IP_HEADER", "X-Forwarded-For").upper().replace("-", "_")

# Django's admin works beside the platform's rules (三权分立): off unless switched on for maintenance; every
# change made there is written to the audit log (core/admin_audit.py).
SHENBAO_DJANGO_ADMIN = _env_bool("SHENBAO_DJANGO_ADMIN")

# --- HTTPS ------------------------------------------------------------------------------------------
# SHENBAO_HTTPS=1: the site is reached over HTTPS only (`shenbao check --deploy` is then silent). Behind a
# TLS-terminating proxy the request's scheme comes from its X-Forwarded-Proto, believed only when a proxy is
# configured (SHENBAO_TRUSTED_PROXY; the proxy must set the header, and the server must not be reachable but
# through it: gunicorn binds to 127.0.0.1 by default, see docs/deploy.md).
SHENBAO_HTTPS = _env_bool("SHENBAO_HTTPS")
if SHENBAO_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SHENBAO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if SHENBAO_TRUSTED_PROXIES:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- accounts -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "orgs.User"
LOGIN_URL = "orgs:login"
LOGIN_REDIRECT_URL = "orgs:home"
LOGOUT_REDIRECT_URL = "calls:portal"
PASSWORD_HASHERS = [
    "shenbao.orgs.hashers.Argon2idHasher",  # Argon2id, OWASP's parameters (see orgs/hashers.py)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "shenbao.orgs.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "shenbao.orgs.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "shenbao.orgs.validators.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "display_name", "email")}},
    {"NAME": "shenbao.orgs.validators.PasswordHistoryValidator", "OPTIONS": {"count": 5}},
]
# The three administrators change their password every 90 days (orgs.middleware.ForcePasswordChangeMiddleware).
SHENBAO_ADMIN_PASSWORD_MAX_AGE = timedelta(days=int(os.environ.get("SHENBAO_ADMIN_PASSWORD_MAX_AGE_DAYS", "90")))
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "shenbao.orgs.backends.ModelBackend",  # Django's, reading the roles with the user (one statement)
]
# 5 failed logins lock the account (by user name, whatever the address) for 30 minutes.
# A password reset or a new account: a one-time link to the holder's e-mail, valid for one hour.
PASSWORD_RESET_TIMEOUT = 60 * 60
# The address the platform is reached at, for links in mails (SHENBAO_SITE_URL).
SHENBAO_SITE_URL = os.environ.get("SHENBAO_SITE_URL", "http://127.0.0.1:8000")
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
# By user name; an administrator inside SHENBAO_ADMIN_NETWORKS by user name and address (orgs/lockout.py).
AXES_LOCKOUT_PARAMETERS = "shenbao.orgs.lockout.lockout_parameters"
# 20 failures from one client address within 15 minutes, whatever the user names, throttle that address.
SHENBAO_LOGIN_IP_LIMIT = int(os.environ.get("SHENBAO_LOGIN_IP_LIMIT", "20"))
SHENBAO_LOGIN_IP_WINDOW = timedelta(minutes=int(os.environ.get("SHENBAO_LOGIN_IP_WINDOW_MINUTES", "15")))
# The administration network(s), CIDRs: the three administrators log in from there even while their user
# name is locked by failures elsewhere (second factor still required).
SHENBAO_ADMIN_NETWORKS = [n.strip() for n in os.environ.get("SHENBAO_ADMIN_NETWORKS", "").split(",") if n.strip()]
# Conflicts of interest: the public mail domains (None: the default list in review/conflicts.py)
SHENBAO_PUBLIC_MAIL_DOMAINS = ([d.strip().lower() for d in os.environ["SHENBAO_PUBLIC_MAIL_DOMAINS"].split(",")
                                if d.strip()] if os.environ.get("SHENBAO_PUBLIC_MAIL_DOMAINS") else None)
# Anonymous enumeration (R-S62..R-S64): (count, seconds) per client address for the registration form, per
# user for looking up a participant unit by name or credit code (core/ratelimit.py, in the cache).
SHENBAO_REGISTER_RATE = (20, 3600)
SHENBAO_PARTICIPANT_LOOKUP_RATE = (30, 3600)
# The administrators' second factor: TOTP (django-otp); the name shown in authenticator apps.
OTP_TOTP_ISSUER = "Shenbao"
# A login waiting for its second factor lasts 5 minutes.
SHENBAO_OTP_PENDING_SECONDS = 300
AXES_RESET_ON_SUCCESS = True
# axes' database handler with its clean-ups as single statements (orgs/lockout.py); no AccessLog of its own:
# the audit log records every login, with the address and user agent, and nothing reads axes' log
AXES_HANDLER = "shenbao.orgs.lockout.LockoutHandler"
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "shenbao.orgs.views.lockout"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "shenbao.core.http.client_ip"
# Attempts during the lock are refused without being counted: the lock ends 30 minutes after the 5th
# failure, not 30 minutes after the last attempt.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# 30 minutes idle ends the session: the session lives 30 minutes and a request renews it, writing the session
# at most once a minute (core/sessions.py: SessionRenewalMiddleware), not on every request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_AFTER = 60
SESSION_ENGINE = "shenbao.core.sessions"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

# --- language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the site's own assets (css, vendor/htmx) beside the apps' ones
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("SHENBAO_MEDIA_ROOT", DATA_DIR / "media"))
# Static files: collected (`shenbao serve` runs collectstatic before starting; the tests once per session) into
# STATIC_ROOT with content hashes in their names and gzip/brotli copies beside them; WhiteNoise serves them
# from there with a year's cache. Only in debug mode (runserver) are they found in the apps and re-read.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"file_permissions_mode": 0o600, "directory_permissions_mode": 0o700}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# R-S74: a request body (form fields, JSON) above 4 MB is refused with HTTP 400 before it is read; uploaded
# files do not count here: they stream to disk (documents/uploads.py) and stop at their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
# R-S83: every uploaded file streams to the app's own temp dir (a dir per process, cleaned of dead processes'
# leftovers at start-up, R-S85) and stops being written at SHENBAO_MAX_UPLOAD_BYTES while it is received.
FILE_UPLOAD_HANDLERS = ["shenbao.documents.uploads.LimitedUploadHandler"]
SHENBAO_TMP_DIR = DATA_DIR / "tmp"
SHENBAO_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# R-S84: stamped scans kept per application (every upload is kept for history)
SHENBAO_MAX_SCANS_PER_APPLICATION = int(os.environ.get("SHENBAO_MAX_SCANS_PER_APPLICATION", "20"))
# R-S82: the QR reader runs in a child process with this address space and wall time
SHENBAO_SCAN_READER_MEMORY = 1536 * 1024 * 1024
SHENBAO_SCAN_READ_SECONDS = 30

# --- mail -----------------------------------------------------------------------------------------
_mail = os.environ.get("SHENBAO_EMAIL_BACKEND", "file")
EMAIL_BACKEND = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}[_mail]
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = os.environ.get("SHENBAO_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("SHENBAO_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("SHENBAO_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SHENBAO_SMTP_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("SHENBAO_SMTP_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("SHENBAO_MAIL_FROM", "shenbao@localhost")

# --- cache ----------------------------------------------------------------------------------------
# With Redis the sessions are read from the cache and written through to the database (cached_db): a request
# does not query the session table, and a Redis restart logs nobody out.
if _redis := os.environ.get("SHENBAO_REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis}}
    SESSION_ENGINE = "shenbao.core.sessions_cached"  # cached_db, renewed once a minute (core/sessions_cached.py)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- background tasks ---------------------------------------------------------------------------
# The Django 6 tasks API through the django-tasks backport (`from django_tasks import task`); shenbao.core.jobs
# tracks progress, shenbao.core.mail sends every mail through the `send_mail` task.
SHENBAO_TASKS_BACKEND = os.environ.get("SHENBAO_TASKS_BACKEND", "db").strip().lower()
SHENBAO_TASKS_LEASE = float(os.environ.get("SHENBAO_TASKS_LEASE", "60"))
SHENBAO_TASKS_MAX_ATTEMPTS = int(os.environ.get("SHENBAO_TASKS_MAX_ATTEMPTS", "3"))
# A daily key (core/daily.py) must outlive its day, and a re-run task comes back within minutes.
SHENBAO_TASK_EFFECT_RETENTION_DAYS = int(os.environ.get("SHENBAO_TASK_EFFECT_RETENTION_DAYS", "30"))
if SHENBAO_TASK_EFFECT_RETENTION_DAYS < 2:
    raise ValueError("SHENBAO_TASK_EFFECT_RETENTION_DAYS must be at least 2")
if SHENBAO_TASKS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    # RQ stops a job after 180 s unless told otherwise; the database queue has no such limit and a bulk export
    # of a province's applications takes longer: 4 hours (SHENBAO_TASKS_RQ_TIMEOUT seconds)
    RQ_QUEUES = {"default": {"URL": os.environ.get("SHENBAO_REDIS_URL", "redis://127.0.0.1:6379/0"),
                             "DEFAULT_TIMEOUT": int(os.environ.get("SHENBAO_TASKS_RQ_TIMEOUT", str(4 * 3600)))}}
    # the lease of core/worker.py with RQ's heartbeat, registry cleanup and Retry (core/worker_rq.py)
    RQ = {"QUEUE_CLASS": "shenbao.core.worker_rq.Queue", "WORKER_CLASS": "shenbao.core.worker_rq.Worker"}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif SHENBAO_TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif SHENBAO_TASKS_BACKEND == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    raise ValueError(f"SHENBAO_TASKS_BACKEND must be db, rq or immediate, not {SHENBAO_TASKS_BACKEND!r}")

# --- documents ------------------------------------------------------------------------------------
# TrueType CJK fonts (ReportLab cannot read the CFF-based Noto CJK); first one found is used.
SHENBAO_CJK_FONTS = [
    *[p for p in os.environ.get("SHENBAO_CJK_FONT", "").split(":") if p],
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHENBAO_LOG_LEVEL", "WARNING")},
}

# The lockout is by account (5 failures lock that user name for 30 minutes, whatever the address), as
# the security rules ask; axes warns that IP is not part of the key, which is the intent here.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
