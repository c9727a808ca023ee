"""The center's rules, free of storage and HTTP: issuance states, checks, sessions, settlement."""
