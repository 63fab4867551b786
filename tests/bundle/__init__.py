"""Bundle tests: export, safe import, replay, secrets, the export benchmark's pieces."""
