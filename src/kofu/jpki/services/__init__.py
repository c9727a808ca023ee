"""Use cases of the authority: issue, revoke, publish CRLs, answer OCSP."""
