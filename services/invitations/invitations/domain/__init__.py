"""invitations' rules: pure, no I/O."""
