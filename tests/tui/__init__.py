"""TUI tests (App.run_test, Pilot, snapshots)."""
