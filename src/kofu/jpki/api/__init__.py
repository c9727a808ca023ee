"""HTTP face of the authority."""
