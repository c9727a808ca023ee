"""Storage of the city's registers: tables, the repository and the unit of work."""
