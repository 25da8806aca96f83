"""A small OpenID provider for development: monolithic mode logs people in without FAS."""
