"""Our REST contract in code: one route per protocol operation and the error envelope.

``backend_client/openapi.yaml`` documents exactly these routes (a test keeps them in step); the
``http`` adapter calls them and ``backend_client/sandbox/api.py`` serves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend_client.errors import (
    BackendError,
    CredentialsRefused,
    InvalidCredentials,
    NotFound,
    NotSupported,
    Rejected,
    SessionExpired,
    Unavailable,
)

API_PREFIX = "/v1"


@dataclass(frozen=True, slots=True)
class Route:
    operation: str  # the SubscriberBackend method, also the OpenAPI operationId
    method: str
    path: str  # relative to API_PREFIX, with {name} placeholders
    status: int = 200  # success status
    auth: bool = True  # bearer session token required

    @property
    def full_path(self) -> str:
        return API_PREFIX + self.path


ROUTES: dict[str, Route] = {
    route.operation: route
    for route in (
        Route("ping", "GET", "/health", auth=False),
        Route("login", "POST", "/sessions", 201, auth=False),
        Route("logout", "DELETE", "/sessions/current", 204),
        Route("change_password", "PUT", "/me/password", 204),
        Route("get_subscriber", "GET", "/me"),
        Route(
            "get_temporary_enabling_policy", "GET", "/contracts/{contract_id}/temporary-enabling"
        ),
        Route(
            "request_temporary_enabling", "POST", "/contracts/{contract_id}/temporary-enabling", 201
        ),
        Route("list_invoices", "GET", "/invoices"),
        Route("get_invoice", "GET", "/invoices/{invoice_id}"),
        Route("get_boleto_pdf", "GET", "/invoices/{invoice_id}/boleto"),
        Route("list_financial_entries", "GET", "/financial-entries"),
        Route("list_fiscal_notes", "GET", "/fiscal-notes"),
        Route("get_fiscal_note_pdf", "GET", "/fiscal-notes/{note_id}/pdf"),
        Route("list_contacts", "GET", "/contacts"),
        Route("add_contact", "POST", "/contacts", 201),
        Route("list_contact_types", "GET", "/contact-types"),
        Route("link_contact_device", "PUT", "/contacts/{contact_id}/devices/{device_id}", 204),
        Route("unlink_contact_device", "DELETE", "/contacts/{contact_id}/devices/{device_id}", 204),
        Route("list_phone_lines", "GET", "/phone-lines"),
        Route("list_terminal_types", "GET", "/terminal-types"),
        Route("list_call_records", "GET", "/phone-lines/{line_id}/calls"),
        Route("list_connection_sessions", "GET", "/logins/{login_id}/sessions"),
        Route("get_due_day_options", "GET", "/contracts/{contract_id}/due-day"),
        Route("request_due_day_change", "POST", "/contracts/{contract_id}/due-day-change", 201),
        Route("list_outages", "GET", "/outages"),
        Route("list_ticket_subjects", "GET", "/ticket-subjects"),
        Route("list_tickets", "GET", "/tickets"),
        Route("get_ticket", "GET", "/tickets/{ticket_id}"),
        Route("open_ticket", "POST", "/tickets", 201),
        Route("reply_ticket", "POST", "/tickets/{ticket_id}/messages", 201),
        Route("get_ticket_attachment", "GET", "/tickets/{ticket_id}/attachments/{attachment_id}"),
    )
}

# Machine code of the error envelope -> (HTTP status, typed error).
ERROR_CODES: dict[str, int] = {
    "bad_request": 400,
    "invalid_credentials": 401,
    "session_expired": 401,
    "forbidden": 403,
    "not_found": 404,
    "rejected": 422,
    "internal": 500,
    "not_supported": 501,
    "unavailable": 503,
}


def error_body(code: str, message: str, **extra: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def envelope_for(error: BackendError) -> tuple[int, dict[str, Any]]:
    """The status and envelope a server answers for a typed backend error."""
    if isinstance(error, InvalidCredentials):
        code, body = "invalid_credentials", error_body("invalid_credentials", "wrong credentials")
    elif isinstance(error, SessionExpired):
        code, body = "session_expired", error_body("session_expired", "log in again")
    elif isinstance(error, NotFound):
        code, body = "not_found", error_body("not_found", str(error) or "not found")
    elif isinstance(error, Rejected):
        code, body = "rejected", error_body("rejected", "refused", reason=error.reason)
    elif isinstance(error, NotSupported):
        body = error_body("not_supported", str(error), operation=error.operation)
        code = "not_supported"
    elif isinstance(error, Unavailable):
        code, body = "unavailable", error_body("unavailable", "the provider system is unavailable")
    else:
        code, body = "internal", error_body("internal", type(error).__name__)
    return ERROR_CODES[code], body


def error_from_envelope(code: str, payload: dict[str, Any], operation: str) -> BackendError:
    """The typed error a client raises for an envelope (Unavailable for an unknown code)."""
    if code == "invalid_credentials":
        return InvalidCredentials()
    if code == "session_expired":
        return SessionExpired()
    if code == "not_found":
        return NotFound(str(payload.get("message") or operation))
    if code == "rejected":
        reason = payload.get("reason")
        if isinstance(reason, str) and reason.strip():
            return Rejected(reason)
        return Unavailable(f"HTTP backend: {operation} answered 'rejected' without a reason")
    if code == "not_supported":
        named = payload.get("operation")
        return NotSupported(named if isinstance(named, str) and named else operation)
    if code == "forbidden":
        return CredentialsRefused(
            f"HTTP backend: {operation}: the server refused this client (check BACKEND_TOKEN, "
            "sent as X-Api-Key)"
        )
    if code == "unavailable":
        return Unavailable(f"HTTP backend: {operation}: the provider system is unavailable")
    return Unavailable(f"HTTP backend: {operation} failed with error code {code!r}")
