"""Use cases of the city: apply events, show records, seed, issue certificates."""
