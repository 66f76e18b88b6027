"""Configuration: defaults, loading from ``ENGAGE_*`` environment variables, validation.

Every variable is documented in README.md ("Configuration"). Values are read with
Flask's ``from_prefixed_env("ENGAGE")``, so ``ENGAGE_SESSION_IDLE_MINUTES=20`` sets
``SESSION_IDLE_MINUTES`` to the integer 20 and booleans are written ``true``/``false``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from typing import ClassVar

from flask import Flask

DEVELOPMENT = "development"
PRODUCTION = "production"


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


class Config:
    """Defaults safe for a laptop; production must override some (see validate)."""

    ENVIRONMENT = DEVELOPMENT
    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None
    BASE_URL = "http://127.0.0.1:5000"

    # Mail: SMTP when set (smtp://user:pass@host:587?starttls=true or smtps://…),
    # otherwise messages go to the outbox table that admins can read.
    SMTP_URL: str | None = None
    MAIL_FROM = "Engage <engage@localhost>"
    SMTP_TIMEOUT_SECONDS = 10
    # Queued emails are retried by the deliver-mail job, with back-off, this often.
    MAIL_MAX_ATTEMPTS = 8

    # Mailings (newsletters sent from Engage). Email goes through SMTP_URL ("smtp")
    # or GOV.UK Notify ("notify"); text messages always through Notify, whose
    # templates take ((subject)) and ((body)) (email) and ((body)) (text).
    MAILING_EMAIL_TRANSPORT = "smtp"
    NOTIFY_API_KEY: str | None = None
    NOTIFY_BASE_URL = "https://api.notifications.service.gov.uk"
    NOTIFY_EMAIL_TEMPLATE_ID: str | None = None
    NOTIFY_SMS_TEMPLATE_ID: str | None = None
    NOTIFY_TIMEOUT_SECONDS = 10
    # Sending: copies per batch, copies per second at most, how long one run of the
    # send-mailings job sends before leaving the rest to the next, and how often a
    # copy refused for now is tried.
    MAILING_BATCH_SIZE = 100
    MAILING_RATE = 50
    MAILING_RUN_SECONDS = 50
    MAILING_MAX_ATTEMPTS = 3
    # A copy handed to Notify whose outcome is not known (the sender was stopped
    # mid-hand-off) is looked up in Notify after this long (well over its time-out).
    MAILING_LOOKUP_AFTER_SECONDS = 60

    # Sessions: signed cookie + per-user session version (see accounts.sessions).
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    SESSION_WARNING_MINUTES = 5
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "engage_session"

    # Set-password links for invitations and resets.
    PASSWORD_TOKEN_HOURS = 1
    PASSWORD_MIN_LENGTH = 10

    # Throttling (Flask-Limiter reads RATELIMIT_*). memory:// counts per process:
    # production with several workers must point this at Redis.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # When Redis cannot be reached, each worker counts in its own memory, with the same
    # limits, until Redis answers again (checked now and then): requests are still
    # served and still throttled, per process. A failure later in a request (after
    # the check) is logged and the request goes on.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    #: How long to wait for Redis to connect or answer before counting in memory, so
    #: an unreachable Redis host does not hold requests up.
    RATELIMIT_REDIS_TIMEOUT_SECONDS = 1.0
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes; 30 per hour"
    LOGIN_LIMIT_PER_CLIENT = "50 per 15 minutes"
    # Wrong two-factor codes per account (sign-in code step, set-up, recovery codes).
    TWO_FACTOR_LIMIT_PER_ACCOUNT = "5 per 5 minutes; 20 per hour"
    PUBLIC_FORM_LIMIT = "20 per hour"
    MEMBERSHIP_JOIN_LIMIT = "10 per hour"
    MEMBERSHIP_MANAGE_REQUEST_LIMIT = "10 per hour"
    # A rate limit, not a secret (the word "token" misleads the linters).
    MEMBERSHIP_TOKEN_LIMIT = "60 per hour"  # noqa: S105  # nosec B105
    # Surveys: answers sent through /s/<token> (public link or invitation), per client.
    SURVEY_ANSWER_LIMIT = "30 per hour"

    # Withdrawn members' personal data is erased this many days after withdrawal.
    MEMBER_RETENTION_DAYS = 30

    # Scheduled jobs (jobs/, `python -m jobs`): the registry, the time zone of cron
    # times, the lease a standby scheduler waits out, the heartbeat renewing it, and
    # how often the active scheduler looks for "Run now" requests.
    JOBS_REGISTRY = "jobs.definitions:JOBS"
    JOBS_TIMEZONE = "Europe/London"
    JOBS_LEASE_SECONDS = 30
    JOBS_HEARTBEAT_SECONDS = 10
    JOBS_POLL_SECONDS = 5
    JOBS_WORKERS = 4
    # Backups (engage backup / restore). Unset paths default to the instance folder.
    #: Append-only list of erased member ids, kept OUT of the database and backups.
    ERASURE_LEDGER: str | None = None
    BACKUP_DIR: str | None = None
    #: Backups in BACKUP_DIR older than this are deleted after each new backup.
    BACKUP_RETENTION_DAYS = 35

    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted.
    PROXY_FIX_X_FOR = 0

    SQLITE_SYNCHRONOUS = "FULL"
    #: PostgreSQL's synchronous_commit for Engage's connections; None keeps the
    #: server's own (on, unless its administrator chose otherwise).
    POSTGRESQL_SYNCHRONOUS_COMMIT: str | None = None
    SQLITE_BUSY_TIMEOUT_MS = 5000

    WTF_CSRF_TIME_LIMIT = 3600 * 4
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # hide_parameters: database errors in logs never carry the values (personal data).
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {
        "pool_pre_ping": True,
        "hide_parameters": True,
    }
    LOG_LEVEL = "INFO"
    #: Signed-in pages say in a Server-Timing header how long the database and the
    #: rendering took (engage/server_timing.py); false measures nothing.
    SERVER_TIMING = True
    #: How many of a page's independent, read-only parts (the dashboard's sections)
    #: are queried at once, each on a database connection of its own
    #: (engage/side_by_side.py); 1 queries them one after another.
    READ_THREADS = 3
    #: "text" (one line per event) or "json" (one JSON object per line).
    LOG_FORMAT = "text"

    # Media monitoring (engage.metrics.fetch). ALLOW_PRIVATE is for tests only: it lets
    # feeds be fetched from loopback and private addresses (docs/security.md E1).
    FEEDS_ALLOW_PRIVATE = False
    FEEDS_CONNECT_TIMEOUT_SECONDS = 5.0
    FEEDS_TOTAL_TIMEOUT_SECONDS = 15.0
    FEEDS_MAX_BYTES = 5 * 1024 * 1024
    FEEDS_MAX_REDIRECTS = 3

    # Mailings: unsubscribes, Notify's receipts, the bounce mailbox.
    #: Unsubscribe link requests per client (mail programs' one-click POSTs included).
    UNSUBSCRIBE_LIMIT = "60 per minute; 600 per hour"
    #: The bearer token GOV.UK Notify sends with delivery receipts (set in Notify's
    #: callback settings); unset, the receipts address answers 404.
    NOTIFY_CALLBACK_TOKEN: str | None = None
    #: The bounce mailbox read by the read-bounces job: imap://user:password@host:143/
    #: INBOX, or imaps://… for TLS. Unset, the job reads nothing.
    BOUNCE_IMAP_URL: str | None = None
    BOUNCE_PROCESSED_FOLDER = "Processed"
    BOUNCE_MAX_MESSAGES = 200  # per run
    BOUNCE_MAX_BYTES = 1024 * 1024  # larger messages are left for a person
    BOUNCE_IMAP_TIMEOUT_SECONDS = 30.0

    # The relationship log's capture mailbox: staff copy (Bcc) it on emails with
    # stakeholders and the read-capture job files each as a draft interaction.
    #: imap://user:password@host:143/INBOX, or imaps://… for TLS. Unset, the job
    #: reads nothing.
    CAPTURE_IMAP_URL: str | None = None
    CAPTURE_PROCESSED_FOLDER = "Processed"
    CAPTURE_MAX_MESSAGES = 200  # per run
    CAPTURE_MAX_BYTES = 10 * 1024 * 1024  # larger messages are left for a person
    CAPTURE_IMAP_TIMEOUT_SECONDS = 30.0
    #: The capture mailbox's own address (capture@…), passed over among recipients
    #: when staff copy it in Cc rather than Bcc.
    CAPTURE_ADDRESS: str | None = None


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Apply defaults, ``ENGAGE_*`` variables and the test mapping; derive the rest."""
    app.config.from_object(Config)
    app.config.from_prefixed_env("ENGAGE")
    if overrides:
        app.config.update(overrides)
    _derive(app)
    validate_config(app)


def _derive(app: Flask) -> None:
    cfg = app.config
    production = cfg["ENVIRONMENT"] == PRODUCTION
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = cfg["DATABASE_URL"] or _default_sqlite_url(app)
    instance = Path(app.instance_path)
    cfg["ERASURE_LEDGER"] = cfg["ERASURE_LEDGER"] or str(instance / "erasures.log")
    cfg["BACKUP_DIR"] = cfg["BACKUP_DIR"] or str(instance / "backups")
    if not cfg.get("SECRET_KEY") and not production and not cfg.get("TESTING"):
        cfg["SECRET_KEY"] = _development_secret_key(app)
    if production:
        cfg["SESSION_COOKIE_SECURE"] = True
        # __Host- cookies are only sent over HTTPS, for this host, on every path.
        cfg["SESSION_COOKIE_NAME"] = "__Host-engage_session"
        cfg["SESSION_COOKIE_PATH"] = "/"
        cfg["SESSION_COOKIE_DOMAIN"] = None
        cfg["PREFERRED_URL_SCHEME"] = "https"
    cfg["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"])
    storage = str(cfg["RATELIMIT_STORAGE_URI"])
    if storage.startswith(("redis://", "rediss://")):
        timeout = float(cfg["RATELIMIT_REDIS_TIMEOUT_SECONDS"])
        cfg["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            **(cfg.get("RATELIMIT_STORAGE_OPTIONS") or {}),
        }


#: PostgreSQL's synchronous_commit settings (None: the server's own).
_SYNCHRONOUS_COMMIT = {None, "on", "off", "local", "remote_write", "remote_apply"}


def _check_choices(cfg: Any) -> None:
    """Fail on a setting that must be one of a few words and is not."""
    if cfg["ENVIRONMENT"] not in {DEVELOPMENT, PRODUCTION}:
        raise ConfigurationError(
            f"ENGAGE_ENVIRONMENT must be {DEVELOPMENT!r} or {PRODUCTION!r}, "
            f"not {cfg['ENVIRONMENT']!r}"
        )
    threads = cfg.get("READ_THREADS")
    if type(threads) is not int or not 1 <= threads <= 16:
        raise ConfigurationError(
            f"ENGAGE_READ_THREADS must be a whole number from 1 to 16, not {threads!r}"
        )
    if cfg.get("POSTGRESQL_SYNCHRONOUS_COMMIT") not in _SYNCHRONOUS_COMMIT:
        raise ConfigurationError(
            "ENGAGE_POSTGRESQL_SYNCHRONOUS_COMMIT must be one of "
            + ", ".join(sorted(v for v in _SYNCHRONOUS_COMMIT if v))
        )


def validate_config(app: Flask) -> None:
    """Fail fast on settings that would make a non-development deployment unsafe."""
    cfg = app.config
    _check_choices(cfg)
    if not cfg.get("SECRET_KEY"):
        raise ConfigurationError("ENGAGE_SECRET_KEY must be set.")
    if cfg["ENVIRONMENT"] != PRODUCTION:
        return
    problems = []
    if len(str(cfg["SECRET_KEY"])) < 32:
        problems.append("ENGAGE_SECRET_KEY must be at least 32 random characters.")
    if not cfg.get("DATABASE_URL"):
        problems.append("ENGAGE_DATABASE_URL must be set (PostgreSQL in production).")
    if not str(cfg["BASE_URL"]).startswith("https://"):
        problems.append("ENGAGE_BASE_URL must be the public https:// address.")
    if cfg.get("DEBUG"):
        problems.append("DEBUG must be off in production.")
    if not cfg.get("SMTP_URL"):
        # The outbox keeps whole messages, set-password and membership links included:
        # fine on a laptop, not where admins could use other people's links.
        problems.append("ENGAGE_SMTP_URL must be set (the outbox is for development).")
    if problems:
        raise ConfigurationError(" ".join(problems))


def _default_sqlite_url(app: Flask) -> str:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(app.instance_path) / 'engage.sqlite'}"


def _development_secret_key(app: Flask) -> str:
    """Return a random key kept in the instance folder, so dev sessions last."""
    path = Path(app.instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by another process starting at the same moment
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
