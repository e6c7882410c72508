"""HTTP kit shared by the adapters (sgp, ixc, http): transport, record shapes, vault, tokens."""
