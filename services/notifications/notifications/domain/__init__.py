"""notifications' rules, without I/O."""
