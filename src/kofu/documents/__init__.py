"""Certificates as A4 PDFs: fonts, seals, layouts and the renderer."""
