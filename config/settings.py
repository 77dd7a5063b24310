"""Django settings, read from the environment.

Every setting an operator may change comes from an environment variable with a default that
works on a fresh machine (SQLite, the ORM broker, debug on). The README lists them all.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused when DEBUG is off


def envbool(name: str, default: str) -> bool:
    return os.getenv(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(os.getenv(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """The DATABASES entry for a URL: sqlite:///path or postgres://user@host:port/name.

    SQLite is shared by the web server and the worker, so it runs in WAL mode with IMMEDIATE
    transactions and a busy timeout; without them the two meet "database is locked".
    A PostgreSQL connection is kept between requests (and checked before reuse): opening one
    costs a server process and a log-in, more than a live poll itself. Each gunicorn thread
    and django-q2 process keeps one, a few dozen in all, so a pool would add a dependency
    and save nothing.
    """
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", "0")
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", "600")
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be sqlite:// or postgres://, not {config['ENGINE']}"
        )
    return config


DEBUG = envbool("DEBUG", "True")
SECRET_KEY = os.getenv("SECRET_KEY", DEFAULT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. With DEBUG off the app refuses the built-in development key; "
        "set SECRET_KEY to a long random string."
    )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
PRODUCT_NAME = os.getenv("PRODUCT_NAME", "Scripe Calendar")
# How often an open page asks what changed (static/js/live.js, from <body>'s data): every
# LIVE_POLL_SECONDS while something on it is in flight, every LIVE_HEARTBEAT_SECONDS
# otherwise. One request per page either way, however many cards it shows.
LIVE_POLL_SECONDS = envint("LIVE_POLL_SECONDS", "2")
LIVE_HEARTBEAT_SECONDS = envint("LIVE_HEARTBEAT_SECONDS", "20")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    # Before django_q: its `qcluster` command adds the generation dispatcher to django-q2's.
    "calendar_app",
    "django_q",
    "axes",
    # Sign-in (#28): accounts (log-in, password reset, email change), two factors, the
    # person's sessions and single sign-on with OpenID Connect, all from django-allauth.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "scripe_integration",
    # The REST API (#27): calendar_app/api, its OpenAPI schema and docs served from packages.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Request and database metrics at /metrics (#29; config/metrics.py serves them).
    "django_prometheus",
]

MIDDLEWARE = [
    # First, so every log line of the request (even a redirect's) carries its id.
    "calendar_app.web.middleware.RequestIdMiddleware",
    # Request counts and latencies (#29): outermost, to time everything below it.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "calendar_app.web.middleware.PolicyHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The interface language from the browser's Accept-Language; UserLanguageMiddleware
    # below puts a signed-in person's own choice (their profile) over it.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Below authentication (it asks who is signed in); static files never get this far.
    "calendar_app.web.middleware.SignedInCacheControlMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "calendar_app.web.middleware.RefuseNulInQueryMiddleware",
    "calendar_app.web.middleware.UserTimeZoneMiddleware",
    "calendar_app.web.middleware.UserLanguageMiddleware",
    "calendar_app.web.middleware.ReadableMethodNotAllowedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # allauth's: the state of a log-in in progress (two factors, SSO), and each signed-in
    # session's device, address and last request, for the sessions list.
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    # Below messages and allauth: leads whoever must enrol a second factor to do so (#28).
    "calendar_app.web.middleware.TwoFactorEnrolmentMiddleware",
    # Refreshes a session's "last seen" every few minutes (allauth's tracking writes each
    # request, so USERSESSIONS_TRACK_ACTIVITY stays off).
    "calendar_app.web.middleware.SessionSeenMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # django-axes wants to be last: it turns a lockout flagged during the view into its page.
    "axes.middleware.AxesMiddleware",
]

# django-axes checks every log-in first and refuses a locked-out one even with the right
# password; allauth's backend then authenticates by username or email (ModelBackend stays for
# the Django admin's own log-in form, which sends a username only).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "calendar_app.web.context_processors.site",
                "calendar_app.web.context_processors.key_banner",
            ],
        },
    }
]

DATABASES = {
    "default": database_from_url(
        os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'calendar.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so the worker processes of the cluster tests can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}
# django-prometheus's wrappers of the same backends count queries, errors and connections.
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends."
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.getenv("REDIS_URL", "")

# django-q2 keeps its cluster heartbeat ("stats") in a cache that the web process must see
# too, for /healthz. With Redis the broker keeps them; without it, a database cache table does.
CACHES = {
    # Cached cards (templatetags/cards.py): one busy week page is a few hundred entries, more
    # than locmem's default of 300 would keep.
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
    "django_q": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_q_cache",
    },
}
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
# The REST API's per-token rate limits (calendar_app/api/limits.py) count in a cache every web
# process shares: Redis when there is one (an atomic INCR), else the database (createcachetable
# makes its table; its increments are read-then-write, so a burst racing across processes may
# get a request or two past the limit). Never locmem, which would count per process.
CACHES["api"] = (
    dict(CACHES["default"])
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "api_cache",
        # One row per token and minute; culling at the default 300 would reset live counts.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
)

Q_CLUSTER = {
    # django-q2 signs tasks with this name: every process of one site must share it.
    "name": "scripe-calendar",
    "workers": envint("Q_WORKERS", "2"),
    # A generation task works for at most GENERATION_TASK_BUDGET; the timeout stays below
    # retry, so a stuck task is killed before the broker hands it to another worker.
    "timeout": envint("Q_TIMEOUT", "90"),
    "retry": envint("Q_TIMEOUT", "90") + 30,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "cache": "django_q",
    "label": "Background tasks",
    # Lets a cluster started with Q_CLUSTER_NAME=<name> serve a queue of its own (django-q2's
    # multi-cluster routing); the tests use it to keep their queues apart.
    "ALT_CLUSTERS": {},
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

# scripe_integration is a library: its connection (the encrypted key) belongs to this model.
SCRIPE_CONNECTION_OWNER_MODEL = "calendar_app.Workspace"
SCRIPE_API_BASE_URL = os.getenv("SCRIPE_API_BASE_URL", "https://api.scripe.io/v1")
# The server sends requests only to https addresses on the public internet: Scripe's base URL
# (which a workspace admin types) and the webhook address Scripe is given (PUBLIC_BASE_URL)
# are refused otherwise (scripe_integration.destinations). On, plain http and loopback or
# private addresses are allowed too: for development and the sandbox (`make run` sets it),
# never in production. SCRIPE_WEBHOOKS_ALLOW_LOCAL is its old name, from when it covered
# webhooks only; it only ever made sense with a local Scripe.
SCRIPE_ALLOW_LOCAL_HOSTS = envbool(
    "SCRIPE_ALLOW_LOCAL_HOSTS", os.getenv("SCRIPE_WEBHOOKS_ALLOW_LOCAL", "False")
)
# Outgoing webhooks (#27) go to the addresses workspace admins type, under the same rule:
# https on the public internet only. On, plain http and loopback, private or link-local
# addresses are allowed too: for tests, development and a receiver on the same machine.
OUTGOING_WEBHOOKS_ALLOW_LOCAL = envbool("OUTGOING_WEBHOOKS_ALLOW_LOCAL", "False")
# Single sign-on (#28): a workspace's OpenID Connect issuer, and every address its discovery
# document names (token, keys, userinfo), under the same rule. On, plain http and local
# addresses are allowed too: for tests (a provider on 127.0.0.1) and development.
SSO_ALLOW_LOCAL_HOSTS = envbool("SSO_ALLOW_LOCAL_HOSTS", "False")
SCRIPE_READ_TIMEOUT = float(os.getenv("SCRIPE_READ_TIMEOUT", "15"))
# Where an uploaded source file waits until Scripe has it (#26); the web server and the
# workers must both see it. Empty: a folder in the system's temporary directory.
SOURCE_UPLOAD_DIR = os.getenv("SOURCE_UPLOAD_DIR", "")
# Where a workspace's export archive waits for its admin to download it (a day); the web
# server and the workers must both see it. Empty: a folder in the system's temporary directory.
EXPORT_DIR = os.getenv("EXPORT_DIR", "")
# How long one generation task may work on its batch, and the lease that keeps other tasks
# off its attempts. A live task renews the lease before each call and while listing pages
# arrive (a call lasts at most the connect plus read timeout, 20 s by default, less than the
# lease), so only a dead worker's lease lapses, and its attempts resume within this many
# seconds. A task that lost its lease anyway has its writes dropped (generation._commit).
GENERATION_TASK_BUDGET = Q_CLUSTER["timeout"] * 3 // 4
GENERATION_LEASE_SECONDS = envint("GENERATION_LEASE_SECONDS", "25")
# Fernet keys (comma-separated, newest first) that encrypt Scripe API keys at rest; separate
# from SECRET_KEY so either can be rotated alone. The default is for development only.
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktc2NyaXBlLWtleS1lbmNyeXB0aW9uLSE="
SCRIPE_KEY_ENCRYPTION_KEYS = envlist("SCRIPE_KEY_ENCRYPTION_KEYS", DEV_ENCRYPTION_KEY)
if not DEBUG and DEV_ENCRYPTION_KEY in SCRIPE_KEY_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "SCRIPE_KEY_ENCRYPTION_KEYS is not set. With DEBUG off the app refuses the development "
        "key; generate one with: python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'"
    )

# Webhooks (#14): Scripe pushes post and job events to /hooks/scripe/<id>/, so the calendar
# follows within seconds; polling stays the floor and gives the same results, later. An admin
# registers the endpoint only when the app has a public base URL Scripe can reach: https on
# the public internet, or a local one when SCRIPE_ALLOW_LOCAL_HOSTS is on (the sandbox).
PUBLIC_BASE_URL = os.getenv("PUBLIC_BASE_URL", "").strip().rstrip("/")
# The contract does not publish the signature header's name; the default is the library's
# reading of it (scripe_integration.webhooks.SIGNATURE_HEADER).
SCRIPE_WEBHOOK_SIGNATURE_HEADER = os.getenv("SCRIPE_WEBHOOK_SIGNATURE_HEADER", "Scripe-Signature")
# A delivery signed further than this from now is refused, so a captured one cannot be
# replayed later.
SCRIPE_WEBHOOK_TOLERANCE_SECONDS = envint("SCRIPE_WEBHOOK_TOLERANCE_SECONDS", "300")
# After a rotation the previous secret still verifies this long (deliveries signed before).
SCRIPE_WEBHOOK_SECRET_OVERLAP_SECONDS = envint("SCRIPE_WEBHOOK_SECRET_OVERLAP_SECONDS", "900")

# Email (#17: notifications). The console backend prints mail to the worker's log until an
# SMTP server is named; sending happens in django-q2 tasks only, never in a web request.
EMAIL_HOST = os.getenv("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", "587")
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "True" if EMAIL_HOST else "False")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "20")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "Scripe Calendar <calendar@localhost>")
# Links in emails (the slot, settings, unsubscribe) start with the app's public address.
EMAIL_LINK_BASE_URL = (
    os.getenv("EMAIL_LINK_BASE_URL", "").strip().rstrip("/")
    or PUBLIC_BASE_URL
    or "http://127.0.0.1:8000"
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-allauth (#28). One field takes a username or an email address. Accounts are made by
# the team (an admin, or an invitation), never by a stranger: the adapter closes sign-up.
# The sessions list's place by address (#28): a MaxMind GeoIP2/GeoLite2 City database on
# disk (a directory or the .mmdb file). Unset: places are left out; nothing is looked up.
GEOIP_PATH = os.getenv("GEOIP_PATH", "").strip() or None
ACCOUNT_ADAPTER = "calendar_app.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# No "remember me" box: a session lasts SESSION_COOKIE_AGE, as it did before allauth.
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{PRODUCT_NAME}] "
ACCOUNT_LOGOUT_REDIRECT_URL = LOGOUT_REDIRECT_URL
# django-axes owns log-in throttling (below: per username and address, and per address across
# usernames, with its lock-out page); allauth's own log-in limits would answer first with a
# page of their own and count differently, so they are off. Its other limits (password reset
# emails, email changes) stay.
ACCOUNT_RATE_LIMITS = {"login": None, "login_failed": None}
# A person changes their own email address: the new one gets a confirmation link and replaces
# the old one only once it is opened. Mail goes out through EMAIL_* below.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Two factors (allauth.mfa): an authenticator app (TOTP), passkeys (WebAuthn, which also sign
# in on their own) and single-use recovery codes. Who must enrol: accounts/two_factor.py.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = PRODUCT_NAME
# WebAuthn wants https; a browser allows http on localhost for development and tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# The Django admin asks every staff user for a second factor. Off by default with DEBUG (the
# development demo's admin, the tests), on in production unless set.
ADMIN_REQUIRES_TWO_FACTOR = envbool("ADMIN_REQUIRES_TWO_FACTOR", "False" if DEBUG else "True")
# Single sign-on (#28): each workspace's OpenID Connect provider is an allauth app built at run
# time from its SingleSignOn (the secret decrypted only in memory); the adapter checks the
# provider's email (verified, an allowed domain) and makes the person a member.
SOCIALACCOUNT_ADAPTER = "calendar_app.accounts.sso_adapter.SocialAccountAdapter"
# The address the provider vouches for is stored as verified, so no confirmation email.
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False

# Log-in throttling (django-axes). Failures are counted per username *and* IP address
# together: a stranger who knows a username cannot lock its owner out from elsewhere, and one
# person's typos do not lock out a whole office behind one address. Failures from one address
# across usernames have a higher limit of their own, so one password cannot be tried on many
# usernames (spraying) while an office's few typos still pass (config.network). The
# attempts live in the database, which every web process shares (the cache is per process
# unless REDIS_URL is set). A try during a username's lockout starts its wait again. A superuser
# unlocks early by deleting the attempts in the admin (Axes > Access attempts) or with
# `manage.py axes_reset_username NAME` (`axes_reset_ip ADDRESS` for an address).
AXES_HANDLER = "config.network.AddressLimitHandler"
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
LOGIN_ADDRESS_FAILURE_LIMIT = envint("LOGIN_ADDRESS_FAILURE_LIMIT", "30")
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# A successful log-in is not recorded: only failures are needed to throttle.
AXES_DISABLE_ACCESS_LOG = True
# Behind a proxy REMOTE_ADDR is the proxy's, and throttling would lock a username for
# everyone; the client's address is the one the trusted proxies put in X-Forwarded-For.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0")
AXES_CLIENT_IP_CALLABLE = "config.network.client_ip"

# The interface languages (#30). Not the language Scripe writes posts in: that is a choice per
# project or post (calendar_app.models.LANGUAGES). Each name is written in its own
# language, so a person who cannot read the current one still finds theirs.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# The calendar's catalogue (calendar_app and templates/); the Scripe sandbox keeps its own in
# scripe_integration/locale, since scripe_integration never depends on the calendar.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "config.storage.StaticModulesStorage"
        )
    },
}

# No inline script anywhere: every script is a static file, so the policy can forbid them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Browser features the app never uses, switched off for it and anything it might embed.
PERMISSIONS_POLICY = [
    f"{feature}=()"
    for feature in [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    ]
]
# Passkeys (#28): WebAuthn, for this site's own pages only.
PERMISSIONS_POLICY = ", ".join(
    [*PERMISSIONS_POLICY, "publickey-credentials-get=(self)", "publickey-credentials-create=(self)"]
)
# Pages for a signed-in person are theirs alone: no proxy keeps them, and the back button on
# a shared computer asks the server again (which sends the next person to the log-in page).
SIGNED_IN_CACHE_CONTROL = "private, no-store"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "False")
    if envbool("BEHIND_TLS_PROXY", "False"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The REST API (#27), under /api/v1/: personal access tokens only (no session, so no CSRF
# question), JSON only, one error envelope (calendar_app/api/errors.py).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["calendar_app.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["calendar_app.api.permissions.TokenScopes"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "calendar_app.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{PRODUCT_NAME} API",
    "DESCRIPTION": (
        "Plan LinkedIn posts written by Scripe from other tools. Authenticate with a personal "
        "access token (Settings → API tokens) as `Authorization: Bearer scal_…`. Lists are "
        "cursor-paginated (`limit`, `cursor`; the answer's `nextCursor`), every error is "
        '`{"error": {"code", "message", "fields"}}`, every POST takes an `Idempotency-Key`, '
        "each token has a rate limit (`RateLimit-*` headers, `Retry-After` on 429) and reads "
        "carry an `ETag` (send it back as `If-None-Match` for a 304)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Posts and sources both have a `status`: each its own named enum.
    "ENUM_NAME_OVERRIDES": {
        "PostStatusEnum": "calendar_app.models.SlotStatus",
        "SourceStatusEnum": "calendar_app.models.SourceStatus",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "calendar_app.api.schema.add_conventions",
    ],
}
# Requests per token per minute (each answer says how many are left).
API_RATE_LIMIT = envint("API_RATE_LIMIT", "120")

DEFAULT_EXCEPTION_REPORTER_FILTER = "scripe_integration.reporting.ScripeKeyReporterFilter"

# Operating it (#29) -----------------------------------------------------------------------------
# /metrics (Prometheus) is served only with a bearer token: `Authorization: Bearer <token>`.
# Empty: not served at all (404).
METRICS_TOKEN = os.getenv("METRICS_TOKEN", "")
# Where every process (gunicorn workers, django-q2 workers) writes its counts, so /metrics
# sums them (prometheus_client's multiprocess mode). Empty: each process counts for itself,
# which is right only for a single process. `make run` and the image set it.
PROMETHEUS_MULTIPROC_DIR = os.getenv("PROMETHEUS_MULTIPROC_DIR", "")
if PROMETHEUS_MULTIPROC_DIR:
    from config.prometheus import multiprocess_setup

    multiprocess_setup(PROMETHEUS_MULTIPROC_DIR)
# json: one JSON object a line (for a log collector); plain: for people reading a terminal.
LOG_FORMAT = os.getenv("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
# Error reports go to Sentry when a DSN is set; off otherwise. Events are scrubbed of keys,
# secrets, tokens, cookies and passwords before they leave (config/sentry.py).
SENTRY_DSN = os.getenv("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = os.getenv("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = float(os.getenv("SENTRY_TRACES_SAMPLE_RATE", "0"))
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# One console handler, on the root logger, prints every record once. Django configures its
# own "django" logger with a console handler first; naming that logger here removes it, so
# Django's warnings reach the console only through the root. django-q2 logs as "django-q".
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "client_error": {"()": "config.log_filters.ClientErrorWithoutTraceback"},
        "request_id": {"()": "config.log_filters.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s [%(request_id)s] %(levelname)s %(name)s: %(message)s"},
        # One JSON object a line: timestamp, level, logger, message, request_id, and whatever
        # the record carries besides (status_code, a traceback as exc_info).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "client_error"],
        }
    },
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": os.getenv("LOG_LEVEL", "INFO")},
        "django-q": {"level": os.getenv("Q_LOG_LEVEL", "INFO")},
        # /mcp/ runs the MCP SDK's session manager for each request (assistants/endpoint.py):
        # its start and stop lines would be two lines a request saying nothing.
        "mcp.server.streamable_http_manager": {"level": "WARNING"},
    },
}
