"""IXCSoft (IXC Provedor) adapter over webservice v1."""

from backend_client.ixc.backend import IxcBackend

__all__ = ["IxcBackend"]
