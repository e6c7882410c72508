"""Area outages (issue 22): declared by the provider's staff (admin API, the broadcast composer,
``/ocorrencias``) or known to the backend, shown at once to a subscriber who says they have no
internet in that area."""
