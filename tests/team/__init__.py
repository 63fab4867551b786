"""Team mode: row-level security, the team commands and live updates on real PostgreSQL."""
