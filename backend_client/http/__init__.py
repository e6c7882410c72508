"""The adapter of our own REST contract (openapi.yaml); its HTTP kit is backend_client.kit."""
