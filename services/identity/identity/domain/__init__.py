"""identity's rules, without I/O."""
