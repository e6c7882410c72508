"""HTTP plumbing shared by the adapters, and the adapter of our own REST contract (openapi.yaml)."""
