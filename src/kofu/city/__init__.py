"""The municipality: resident register, family registers, seals, tax, counter issuance."""
