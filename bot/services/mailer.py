"""E-mail through a real SMTP client (aiosmtplib), with a persistent outbox.

Every message is stored in the outbox before the first attempt, then sent right away; when the
SMTP server is down the message stays there and a repeating job retries it with exponential
backoff, a bounded number of times. Without ``SMTP_HOST`` e-mail is disabled and nothing is
stored. Nothing here imports Telegram types except the job callback's context.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

import aiosmtplib

from bot.services.context import services_of
from bot.services.scheduling import repeat_once
from bot.settings import Settings
from bot.storage.outbox import OutboxRepository, PendingEmail

logger = logging.getLogger(__name__)

OUTBOX_JOB = "email-outbox-retry"
RETRY_INTERVAL = timedelta(minutes=5)  # how often the job looks for due messages
FIRST_RETRY = RETRY_INTERVAL  # a failed first attempt is retried after this
MAX_BACKOFF = timedelta(hours=6)
MAX_ATTEMPTS = 10  # about a day of retries, then the message is given up (and logged)
SEND_TIMEOUT = 10.0  # seconds for one SMTP conversation
LEASE = timedelta(minutes=2)  # a message being sent is not picked by another run meanwhile
IMPLICIT_TLS_PORT = 465


class DeliveryOutcome(enum.StrEnum):
    SENT = "sent"  # every message accepted by the SMTP server
    QUEUED = "queued"  # stored; the retry job will deliver it
    DISABLED = "disabled"  # no SMTP configured (or the outbox failed): nothing will be sent


class MailDeliveryError(Exception):
    """The SMTP server could not be reached or refused the message."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    starttls: bool
    sender: str
    billing_address: str

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        if not settings.smtp_host or not settings.smtp_from or not settings.billing_email:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            sender=settings.smtp_from,
            billing_address=settings.billing_email,
        )

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1]


class SmtpMailer:
    """One SMTP conversation per delivery; TLS on port 465, else STARTTLS when configured."""

    def __init__(self, config: SmtpConfig, timeout: float = SEND_TIMEOUT) -> None:
        self.config = config
        self.timeout = timeout

    async def deliver(self, sender: str, recipients: Sequence[str], raw: bytes) -> None:
        config = self.config
        implicit_tls = config.port == IMPLICIT_TLS_PORT
        try:
            await aiosmtplib.send(
                raw,
                sender=sender,
                recipients=list(recipients),
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                use_tls=implicit_tls,
                start_tls=False if implicit_tls else config.starttls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise MailDeliveryError(f"{type(error).__name__}: {error}") from error


def is_address(value: str | None) -> bool:
    """A single plain address we can put in a To header (no display name, no list)."""
    if not value or any(char in value for char in '\r\n,;<>"() '):
        return False
    local, at, domain = value.rpartition("@")
    return bool(at and local and "." in domain.strip("."))


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: 5, 10, 20… min, ≤ 6 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


class EmailDispatcher:
    """Composes, stores and delivers e-mails; retries the outbox."""

    def __init__(
        self,
        config: SmtpConfig | None,
        outbox: OutboxRepository,
        clock: Callable[[], datetime],
        mailer: SmtpMailer | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.clock = clock
        self.mailer = mailer or (SmtpMailer(config) if config is not None else None)

    @property
    def enabled(self) -> bool:
        return self.config is not None and self.mailer is not None

    @property
    def billing_address(self) -> str | None:
        return self.config.billing_address if self.config else None

    def compose(
        self, to: str, subject: str, body: str, *, reply_to: str | None = None
    ) -> EmailMessage:
        if self.config is None:
            raise RuntimeError("e-mail is disabled (SMTP_HOST is not set)")
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(self.clock())
        domain = self.config.sender_address.rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        if reply_to:
            message["Reply-To"] = reply_to
        message.set_content(body, cte="quoted-printable")
        return message

    async def send(self, messages: Sequence[EmailMessage]) -> DeliveryOutcome:
        """Store then try to deliver each message now. Never raises."""
        if not self.enabled or not messages:
            return DeliveryOutcome.DISABLED
        now = self.clock()
        stored: list[PendingEmail] = []
        try:
            for message in messages:
                stored.append(
                    await self.outbox.add(
                        sender=self._envelope_sender(),
                        recipients=[parseaddr(message["To"])[1]],
                        subject=str(message["Subject"]),
                        raw=message.as_bytes(policy=SMTP),
                        now=now,
                        # The retry job keeps off while this first attempt runs.
                        first_attempt_at=now + LEASE,
                    )
                )
        except Exception:
            logger.exception("could not store e-mails in the outbox")
            if not stored:
                return DeliveryOutcome.DISABLED
        delivered = [await self._attempt(email) for email in stored]
        if len(stored) == len(messages) and all(delivered):
            return DeliveryOutcome.SENT
        return DeliveryOutcome.QUEUED

    async def retry_due(self) -> int:
        """Deliver the outbox messages whose time has come; returns how many were sent."""
        if not self.enabled:
            return 0
        due = await self.outbox.claim_due(self.clock(), LEASE)
        sent = 0
        for email in due:
            sent += await self._attempt(email)
        if due:
            logger.info("e-mail outbox: %d of %d due message(s) delivered", sent, len(due))
        return sent

    async def _attempt(self, email: PendingEmail) -> bool:
        assert self.mailer is not None
        try:
            await self.mailer.deliver(email.sender, email.recipients, email.raw)
        except MailDeliveryError as error:
            now = self.clock()
            attempts = email.attempts + 1
            retry_at = None if attempts >= MAX_ATTEMPTS else now + backoff(attempts)
            await self.outbox.record_failure(email.id, now, str(error), retry_at)
            if retry_at is None:
                logger.error(
                    "e-mail %d (%r) given up after %d attempts: %s",
                    email.id,
                    email.subject,
                    attempts,
                    error,
                )
            else:
                logger.warning(
                    "e-mail %d not delivered (attempt %d of %d), next try at %s: %s",
                    email.id,
                    attempts,
                    MAX_ATTEMPTS,
                    retry_at.isoformat(),
                    error,
                )
            return False
        await self.outbox.mark_sent(email.id, self.clock())
        logger.info("e-mail %d delivered (%r)", email.id, email.subject)
        return True

    def _envelope_sender(self) -> str:
        assert self.config is not None
        return self.config.sender_address


# --- wiring into the application ------------------------------------------------------------
def dispatcher_for(application: Any) -> EmailDispatcher:
    """The dispatcher of the current settings (cheap to build; no connection is opened)."""
    found = services_of(application)
    return EmailDispatcher(
        SmtpConfig.from_settings(found.settings),
        OutboxRepository(application.bot_data["engine"]),
        found.clock,
    )


async def retry_outbox(application: Any) -> int:
    """One pass of the outbox retry (what the repeating job runs)."""
    return await dispatcher_for(application).retry_due()


async def _retry_job(context: Any) -> None:
    try:
        await retry_outbox(context.application)
    except Exception:
        logger.exception("e-mail outbox retry failed")


def schedule_outbox_retries(application: Any) -> None:
    """Register the repeating retry job on the application's JobQueue (once)."""
    repeat_once(
        application,
        _retry_job,
        every=RETRY_INTERVAL.total_seconds(),
        name=OUTBOX_JOB,
        without_queue="no JobQueue: e-mails that fail will not be retried",
    )
