"""directory: the public read side of the social map (search, FHIR, HSDS)."""
