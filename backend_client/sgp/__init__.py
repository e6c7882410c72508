"""SGP (TSMX) adapter: the Central do Assinante endpoints plus a few URA endpoints."""

from backend_client.sgp.backend import SgpBackend

__all__ = ["SgpBackend"]
