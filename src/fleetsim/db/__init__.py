"""Storage: tables, engines, the unit of work and migrations."""
