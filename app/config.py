"""Settings from the environment (and a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from app.services.duty_schedule import Schedule as DutySchedule

NEW_KEY = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Pieces of the example keys in documentation and templates, never of a generated secret.
PLACEHOLDER_MARKERS = ("change", "example", "placeholder", "replace", "your-", "xxxxxx")
USABLE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
URL_FORMS = (
    "use sqlite:///path/to/hotline.db (a relative path counts from the working folder) "
    "or postgresql+psycopg://user:password@host:5432/dbname"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///./data/hotline.db", alias="DATABASE_URL")
    admin_key: str | None = Field(default=None, alias="HOTLINE_ADMIN_KEY")
    timezone: str = Field(default="Asia/Shanghai", alias="HOTLINE_TIMEZONE")
    scheduler: bool = Field(default=True, alias="HOTLINE_SCHEDULER")
    webhooks: bool = Field(default=True, alias="HOTLINE_WEBHOOKS")
    webhook_deny_private: bool = Field(default=False, alias="HOTLINE_WEBHOOK_DENY_PRIVATE")
    log_level: str = Field(default="INFO", alias="HOTLINE_LOG_LEVEL")
    max_body_bytes: int = Field(default=1024 * 1024, alias="HOTLINE_MAX_BODY_BYTES")
    db_pool_size: int = Field(default=10, ge=1, alias="HOTLINE_DB_POOL_SIZE")
    # Bounded waits (issue 13): nothing waits forever. A pool checkout, SQLite's busy wait
    # and PostgreSQL's lock wait give up after these; the request is answered 503 +
    # Retry-After, having changed nothing.
    db_pool_timeout: float = Field(default=3.0, gt=0, le=60, alias="HOTLINE_DB_POOL_TIMEOUT")
    # ... and the wait of an admitted request for a worker thread (generous: on a machine
    # starved of CPU a lone request's trip to a thread has taken over 3 s).
    queue_timeout: float = Field(default=10.0, gt=0, le=60, alias="HOTLINE_QUEUE_TIMEOUT")
    db_lock_timeout_ms: int = Field(default=5000, ge=100, alias="HOTLINE_DB_LOCK_TIMEOUT_MS")
    db_statement_timeout_ms: int = Field(default=60000, ge=1000, alias="HOTLINE_DB_STATEMENT_TIMEOUT_MS")
    db_idle_in_transaction_timeout_ms: int = Field(
        default=30000, ge=1000, alias="HOTLINE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"
    )
    # Requests admitted to wait for the database at once, writing and reading; past them,
    # 503 + Retry-After at once rather than a queue without end.
    max_writers: int = Field(default=128, ge=1, alias="HOTLINE_MAX_WRITERS")
    max_readers: int = Field(default=256, ge=1, alias="HOTLINE_MAX_READERS")
    # The voters' pages face the whole internet: their own places, so that a flood of them
    # never takes a place the hotline's systems and the staff's pages need.
    max_public: int = Field(default=64, ge=1, alias="HOTLINE_MAX_PUBLIC")
    # ... and threads of their own: they never take a thread the hotline's requests wait for.
    public_threads: int = Field(default=2, ge=1, le=64, alias="HOTLINE_PUBLIC_THREADS")
    key_cache_seconds: float = Field(default=5.0, ge=0, alias="HOTLINE_KEY_CACHE_SECONDS")
    # /metrics for this bearer token; unset: for local requests only (app.main).
    metrics_token: str | None = Field(default=None, alias="HOTLINE_METRICS_TOKEN")
    # /docs, /redoc and /openapi.json: on for development, off in the image (Dockerfile).
    docs: bool = Field(default=True, alias="HOTLINE_DOCS")
    # Where people reach the service: the address printed in invitation links and QR codes.
    # https here also marks the session cookies Secure.
    public_base_url: str | None = Field(default=None, alias="HOTLINE_PUBLIC_BASE_URL")

    # Single sign-on with the city's unified identity system (统一身份认证), by OpenID
    # Connect; off unless an issuer is named (app.services.oidc, README "Single sign-on").
    oidc_issuer: str | None = Field(default=None, alias="HOTLINE_OIDC_ISSUER")
    oidc_client_id: str | None = Field(default=None, alias="HOTLINE_OIDC_CLIENT_ID")
    oidc_client_secret: str | None = Field(default=None, alias="HOTLINE_OIDC_CLIENT_SECRET")
    oidc_token_auth: Literal["client_secret_basic", "client_secret_post", "none"] = Field(
        default="client_secret_basic", alias="HOTLINE_OIDC_TOKEN_AUTH"
    )
    oidc_scopes: str = Field(default="openid profile", alias="HOTLINE_OIDC_SCOPES")
    # The claim whose value is an account's username here (matched without regard to case).
    oidc_username_claim: str = Field(
        default="preferred_username", min_length=1, max_length=100, alias="HOTLINE_OIDC_USERNAME_CLAIM"
    )
    # Where the provider sends people back; default <HOTLINE_PUBLIC_BASE_URL>/ui/sso/callback.
    oidc_redirect_uri: str | None = Field(default=None, alias="HOTLINE_OIDC_REDIRECT_URI")

    # Time limits (SPEC.md "Time limits"); every one is configuration.
    contact_hours: int = Field(default=24, alias="HOTLINE_CONTACT_HOURS")
    resolve_working_days: int = Field(default=7, alias="HOTLINE_RESOLVE_WORKING_DAYS")
    urgent_resolve_hours: int = Field(default=24, alias="HOTLINE_URGENT_RESOLVE_HOURS")
    feedback_days: int = Field(default=2, alias="HOTLINE_FEEDBACK_DAYS")
    opinion_working_days: int = Field(default=5, alias="HOTLINE_OPINION_WORKING_DAYS")
    warn_hours_before: int = Field(default=4, alias="HOTLINE_WARN_HOURS_BEFORE")
    long_overdue_working_days: int = Field(default=5, alias="HOTLINE_LONG_OVERDUE_WORKING_DAYS")
    # Invitations (约请, SPEC Part II): the invited unit's limits, and the letters' prefix.
    invitation_acknowledge_working_days: int = Field(
        default=3, ge=0, le=365, alias="HOTLINE_INVITATION_ACKNOWLEDGE_WORKING_DAYS"
    )
    invitation_complete_working_days: int = Field(
        default=15, ge=0, le=365, alias="HOTLINE_INVITATION_COMPLETE_WORKING_DAYS"
    )
    invitation_letter_prefix: str = Field(
        default="人大约", min_length=1, max_length=20, alias="HOTLINE_INVITATION_LETTER_PREFIX"
    )
    invitation_issuer: str = Field(
        default="人大常委会代表与选任工作委员会",
        min_length=1,
        max_length=100,
        alias="HOTLINE_INVITATION_ISSUER",
    )
    sweep_interval_seconds: int = Field(default=60, alias="HOTLINE_SWEEP_INTERVAL_SECONDS")
    # Voters' messages (SPEC Part II): the deputy's response clock, the days a voter has to
    # rate, and the public form's limits (stored messages count; refused ones do not).
    message_response_working_days: int = Field(default=2, ge=0, alias="HOTLINE_MESSAGE_RESPONSE_WORKING_DAYS")
    message_rating_days: int = Field(default=15, ge=1, alias="HOTLINE_MESSAGE_RATING_DAYS")
    message_limit_per_address: int = Field(default=5, ge=1, alias="HOTLINE_MESSAGE_LIMIT_PER_ADDRESS")
    message_address_window_minutes: int = Field(
        default=10, ge=1, alias="HOTLINE_MESSAGE_ADDRESS_WINDOW_MINUTES"
    )
    message_limit_per_phone: int = Field(default=10, ge=1, alias="HOTLINE_MESSAGE_LIMIT_PER_PHONE_PER_DAY")
    # A voter's name and phone (and the form's client address) are erased this many days
    # after the message closes (PIPL: kept no longer than needed; app.services.retention).
    voter_data_days: int = Field(default=365, ge=1, le=36500, alias="HOTLINE_VOTER_DATA_DAYS")
    # How long a sign-in may wait for a free password-check slot (one per core) before it is
    # answered 503 with Retry-After: the bound on the queue a crowd of sign-ins can build.
    password_wait_seconds: float = Field(default=10.0, gt=0, le=300, alias="HOTLINE_PASSWORD_WAIT_SECONDS")

    # The units' score (SPEC "Reports"): each rate's weight in the weighted mean.
    score_weight_contact: float = Field(default=15, ge=0, alias="HOTLINE_SCORE_WEIGHT_CONTACT")
    score_weight_resolve: float = Field(default=35, ge=0, alias="HOTLINE_SCORE_WEIGHT_RESOLVE")
    score_weight_feedback: float = Field(default=10, ge=0, alias="HOTLINE_SCORE_WEIGHT_FEEDBACK")
    score_weight_satisfaction: float = Field(default=30, ge=0, alias="HOTLINE_SCORE_WEIGHT_SATISFACTION")
    score_weight_solve: float = Field(default=10, ge=0, alias="HOTLINE_SCORE_WEIGHT_SOLVE")

    # Duty reports (SPEC Part II): the term years each kind of deputy reports in, and the
    # share of a county or township term's reports that must be made at a meeting.
    duty_report_schedule: str = Field(
        default="reelected:1;official:2;others:3,4", alias="HOTLINE_DUTY_REPORT_SCHEDULE"
    )
    duty_meeting_share: float = Field(default=0.3, ge=0, le=1, alias="HOTLINE_DUTY_MEETING_SHARE")
    duty_meeting_levels: str = Field(default="county,township", alias="HOTLINE_DUTY_MEETING_LEVELS")

    @field_validator("duty_report_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        from app.services.duty_schedule import parse_schedule

        parse_schedule(value)  # raises with what is wrong: fail at start-up
        return value

    @field_validator("duty_meeting_levels")
    @classmethod
    def _levels(cls, value: str) -> str:
        levels = {v.strip() for v in value.split(",") if v.strip()}
        unknown = levels - {"national", "provincial", "city", "county", "township"}
        if unknown:
            raise ValueError(f"unknown levels {', '.join(sorted(unknown))}")
        return value

    @property
    def duty_schedule(self) -> DutySchedule:
        """The duty-report schedule these settings describe."""
        from app.services.duty_schedule import Schedule, parse_schedule

        return Schedule(
            parse_schedule(self.duty_report_schedule),
            self.duty_meeting_share,
            frozenset(v.strip() for v in self.duty_meeting_levels.split(",") if v.strip()),
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises on an unknown zone: fail at start-up, not per request
        return value

    @field_validator("admin_key", "metrics_token")
    @classmethod
    def _no_placeholder_key(cls, value: str | None) -> str | None:
        # The messages never quote the key: they end up on terminals and in logs.
        if value is None:
            return None
        if len(value) < 16:
            raise ValueError(f"must be at least 16 characters (it has {len(value)}); {NEW_KEY}")
        if _is_placeholder(value) or len(set(value)) < 8:
            raise ValueError(f"looks like a placeholder from an example, not a secret; {NEW_KEY}")
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"is not a database URL; {URL_FORMS}") from None
        if url.drivername not in USABLE_DRIVERS:
            raise ValueError(f"the driver {url.drivername!r} is not one this service uses; {URL_FORMS}")
        if url.password is not None and _is_placeholder(str(url.password)):
            raise ValueError("the database password is still the placeholder of .env.example")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                "HOTLINE_PUBLIC_BASE_URL must be an http(s) address such as https://rdhotline.example.gov.cn"
            )
        return value.strip().rstrip("/")

    @field_validator("oidc_issuer", "oidc_redirect_uri")
    @classmethod
    def _oidc_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                "must be an http(s) address without a query, such as https://sso.example.gov.cn/oidc"
            )
        return value.strip()

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        """Single sign-on is either off or fully set: a half-configured one would show a
        button that cannot work."""
        if self.oidc_issuer is None:
            return self
        missing = [
            name
            for name, value in (
                ("HOTLINE_OIDC_CLIENT_ID", self.oidc_client_id),
                (
                    "HOTLINE_OIDC_CLIENT_SECRET",
                    self.oidc_client_secret or (self.oidc_token_auth == "none" or None),
                ),
                (
                    "HOTLINE_OIDC_REDIRECT_URI or HOTLINE_PUBLIC_BASE_URL",
                    self.oidc_redirect_uri or self.public_base_url,
                ),
            )
            if not value
        ]
        if missing:
            raise ValueError("HOTLINE_OIDC_ISSUER is set, so single sign-on also needs " + ", ".join(missing))
        if self.oidc_client_secret and _is_placeholder(self.oidc_client_secret):
            raise ValueError(
                "HOTLINE_OIDC_CLIENT_SECRET is still a placeholder; use the "
                "secret the identity provider issued"
            )
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("HOTLINE_OIDC_SCOPES must include openid")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @property
    def oidc_callback(self) -> str:
        """The redirect URI registered with the identity provider."""
        return self.oidc_redirect_uri or f"{self.public_base_url}/ui/sso/callback"

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: when people reach the service at an https address."""
        return (self.public_base_url or "").startswith("https://")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def ensure_data_dir(self) -> None:
        """Create the directory of a SQLite file database."""
        if self.is_sqlite and ":memory:" not in self.database_url:
            path = self.database_url.split("///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def _is_placeholder(secret: str) -> bool:
    """The values .env.example and the documentation ship (change-me-…) and their like:
    never a real secret."""
    plain = secret.lower().replace("-", "").replace("_", "")
    return (
        "changeme" in plain
        or plain in {"secret", "password"}
        or any(marker in secret.lower() for marker in PLACEHOLDER_MARKERS)
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
