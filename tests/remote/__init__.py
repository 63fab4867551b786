"""Remote and self-hosted engines against loopback fake servers that speak each wire format."""
