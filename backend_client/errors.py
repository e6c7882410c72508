"""Typed errors every backend adapter raises; the bot turns each into a pt-BR message."""

from __future__ import annotations


class BackendError(Exception):
    """Base class of every error a backend raises on purpose."""


class InvalidCredentials(BackendError):
    """The document/password pair is wrong (or the subscriber has no Central access)."""


class SessionExpired(BackendError):
    """The backend no longer accepts the session token; the subscriber must log in again."""


class NotFound(BackendError):
    """The id does not exist, or does not belong to the logged-in subscriber."""


class Rejected(BackendError):
    """The provider refused the request; ``reason`` is its pt-BR explanation for the subscriber."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# The reasons every adapter gives for a ticket reply it cannot take.
CLOSED_TICKET_REASON = "Este atendimento está encerrado. Se precisar, abra um novo atendimento."
EMPTY_REPLY_REASON = "Escreva uma mensagem ou envie um arquivo."


def reply_text(text: str, attachments: tuple[object, ...]) -> str:
    """A ticket reply's text, stripped; :class:`Rejected` when it has neither text nor file."""
    text = text.strip()
    if not text and not attachments:
        raise Rejected(EMPTY_REPLY_REASON)
    return text


class NotSupported(BackendError):
    """This provider's system has no such operation."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"operation not supported by this backend: {operation}")
        self.operation = operation


class NotPermitted(NotSupported):
    """The system has the operation, but the integration user may not use what it needs.

    ``resource`` names the table or endpoint that was refused (for the provider's admin); the
    subscriber is told the item is not available in this installation, as for NotSupported.
    """

    def __init__(self, operation: str, resource: str) -> None:
        super().__init__(operation)
        self.args = (f"{operation}: the integration user may not read {resource}",)
        self.resource = resource


class Unavailable(BackendError):
    """The provider's system is down, slow or answered something unexpected."""


class CredentialsRefused(Unavailable):
    """The system refused the integration's own credentials (token, app name, user id).

    Every subscriber operation fails until an operator fixes the configuration, so ``run``
    stops at start-up on it instead of apologising to every subscriber.
    """
