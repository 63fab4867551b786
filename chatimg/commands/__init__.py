"""The CLI's subcommands, one module per area, each imported only when its command runs."""
