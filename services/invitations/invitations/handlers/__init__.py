"""invitations' use cases: one function per command or event."""
