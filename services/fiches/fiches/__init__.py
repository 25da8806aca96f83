"""fiches: provider, practice and offer fiches; what the public directory shows."""
