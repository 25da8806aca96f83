"""invitations: e-mail link invitations to link an offer to a practice."""
