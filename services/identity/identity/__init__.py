"""identity: professional and citizen login, e-mail activation, sessions and tokens."""
