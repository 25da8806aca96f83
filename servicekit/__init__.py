"""Plumbing every service shares: settings, database, outbox/inbox, broker, health, logging.

Nothing here knows about fiches or professionals; services import it, never copy it.
"""
