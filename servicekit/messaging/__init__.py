"""Reliable messaging: transactional outbox and relay, inbox deduplication, dead letters."""
