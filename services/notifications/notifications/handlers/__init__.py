"""notifications' use cases: one function per event that asks for an e-mail."""
