"""The embedded sandbox backend: a complete demo provider system over its own database."""

from backend_client.sandbox.backend import SandboxBackend
from backend_client.sandbox.seed import DEMO_ACCOUNTS, DemoAccount

__all__ = ["DEMO_ACCOUNTS", "DemoAccount", "SandboxBackend"]
