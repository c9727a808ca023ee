"""The city over HTTP: registers, counter issuance, the store certificate server, the card desk."""
