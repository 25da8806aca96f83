"""Migrations of the messaging tables every service shares (Alembic branch `messaging`).

Each service's own migrations are one linear history; these live on a second branch of
the same Alembic history, so a change to the shared tables is one migration here instead
of one per service. `servicekit.database.upgrade_database` applies both branches; the
branch starts after each service's first revision (`0001`, which creates the outbox).
"""
