"""Storage of issued certificates and the CA keys."""
