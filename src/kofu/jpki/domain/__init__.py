"""Certificate profiles, validity and revocation rules, free of storage and HTTP."""
