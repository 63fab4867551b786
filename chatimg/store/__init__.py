"""Storage: SQLModel tables, the database (engine, sessions, migrations), the repository and the
content-addressed asset store on disk."""
