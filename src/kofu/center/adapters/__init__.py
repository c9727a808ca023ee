"""The center's storage (tables, the SQL unit of work), its links to other parties, its signer."""
