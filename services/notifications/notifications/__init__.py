"""notifications: e-mail delivery of the events that should reach a person."""
