"""The JPKI authority: CAs for the card's two certificates, revocation, CRLs and OCSP."""
