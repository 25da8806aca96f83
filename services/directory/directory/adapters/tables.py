"""directory's tables (its own database): the public facts and the search index.

Everything here comes from the public topics, so it holds exactly the published versions:
an edit version, an e-mail address or a national register number never reaches it.
"""

from __future__ import annotations

import sqlalchemy as sa

from servicekit.messaging.tables import add_messaging_tables
from servicekit.runtime import ServiceTables

metadata = sa.MetaData()

# Terms are compared by byte order (prefix ranges on a btree): PostgreSQL's "C"
# collation gives that whatever the database's default; SQLite compares bytes anyway.
TERM_TYPE = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
SORT_TYPE = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")

# --- Facts, as the public topics carry them ------------------------------------------

search_providers = sa.Table(
    "search_providers",
    metadata,
    sa.Column("fiche_id", sa.String(36), primary_key=True),
    # Kept after depublication (published = false) so that a late, older event is
    # recognised by its revision and the practices' offer blocks can drop the provider.
    sa.Column("published", sa.Boolean(), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("official_first_name", sa.String(200), nullable=False),
    sa.Column("official_last_name", sa.String(200), nullable=False),
    sa.Column("preferred_name", sa.String(200), nullable=True),
    sa.Column("professions", sa.JSON(), nullable=False),
    sa.Column("languages", sa.JSON(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # The published professions with their RIZIV number where the topic carries one
    # ([{profession, riziv_number}]): FHIR shows them; search does not.
    sa.Column("public_professions", sa.JSON(), nullable=False),
)

search_practices = sa.Table(
    "search_practices",
    metadata,
    sa.Column("practice_id", sa.String(36), primary_key=True),
    sa.Column("published", sa.Boolean(), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    # The published facts of the event (names, addresses, target groups, ...).
    sa.Column("facts", sa.JSON(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Published offer-block entries (OfferLinked minus OfferUnlinked), whatever the state of
# the provider: whether the provider shows is decided when the documents are built.
search_offers = sa.Table(
    "search_offers",
    metadata,
    sa.Column("practice_id", sa.String(36), primary_key=True),
    sa.Column("provider_fiche_id", sa.String(36), primary_key=True),
    sa.Column("profession", sa.String(60), primary_key=True),
    sa.Index("ix_search_offers_provider", "provider_fiche_id"),
)

# Where each address of a published practice is, as the geocoder placed it. Rebuilt with
# the practice's facts; only published practices have rows.
practice_places = sa.Table(
    "practice_places",
    metadata,
    sa.Column("practice_id", sa.String(36), primary_key=True),
    sa.Column("position", sa.Integer(), primary_key=True),
    sa.Column("latitude", sa.Float(), nullable=False),
    sa.Column("longitude", sa.Float(), nullable=False),
    # How precise the point is: `address`, `postcode` or `municipality` (a centroid).
    sa.Column("precision", sa.String(20), nullable=False),
    # A bounding-box pre-filter on latitude keeps a near search off the whole table.
    sa.Index("ix_practice_places_latitude", "latitude", "longitude"),
)

# --- What the search endpoint reads ----------------------------------------------------

# One row per published fiche: its public search hit, as JSON text ready to send.
search_documents = sa.Table(
    "search_documents",
    metadata,
    sa.Column("kind", sa.String(10), primary_key=True),
    sa.Column("fiche_id", sa.String(36), primary_key=True),
    sa.Column("sort_key", SORT_TYPE, nullable=False),
    sa.Column("document", sa.Text(), nullable=False),
    # Pages are read in this order; (kind, fiche_id) breaks ties, so pages are stable.
    sa.Index("ix_search_documents_order", "sort_key", "kind", "fiche_id"),
)

# The normalised terms a published fiche is found by: `n:<name word>`, `p:<profession>`,
# `pc:<postcode>`, `m:<municipality>`, `t:<target group>`, `l:<language>`.
# The fiche's sort key is repeated here so that a search starting from its most selective
# term reads that term's entries already in page order and stops after one page: the
# primary key walks one term's fiches in page order. A fiche has one sort key, so the key
# is unique where (term, kind, fiche_id) is; a separate index in page order beside a key
# by (term, kind, fiche_id) cost a third of writing the rows (migration 0007).
search_terms = sa.Table(
    "search_terms",
    metadata,
    sa.Column("term", TERM_TYPE, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("fiche_id", sa.String(36), nullable=False),
    sa.Column("sort_key", SORT_TYPE, nullable=False),
    sa.PrimaryKeyConstraint("term", "sort_key", "kind", "fiche_id", name="search_terms_pkey"),
    # Does this fiche have that term (or a term with that prefix)? Index-only probes.
    sa.Index("ix_search_terms_fiche", "kind", "fiche_id", "term"),
)

# Every prefix of 3 to 7 characters of each name word (`n:pee`, `n:peet`, ... of
# `n:peeters`), with the name term it comes from: a name search of 3 to 7 characters starts
# here by equality, reading its fiches in page order and stopping after a page, instead of
# gathering every term in a prefix range and sorting them. Its own table, so the planner's
# statistics on the term index stay those of whole terms. The projection writes and deletes
# them with their terms (adapters/name_prefixes.py).
search_prefixes = sa.Table(
    "search_prefixes",
    metadata,
    sa.Column("prefix", TERM_TYPE, primary_key=True),
    sa.Column("sort_key", SORT_TYPE, primary_key=True),
    sa.Column("kind", sa.String(10), primary_key=True),
    sa.Column("fiche_id", sa.String(36), primary_key=True),
    sa.Column("term", TERM_TYPE, primary_key=True),
    # Deleted by their whole key with their fiche's terms (adapters/name_prefixes.py): no
    # foreign key and no index by fiche, whose upkeep on every row was about 30% and 25%
    # of writing them, the largest write of a catch-up.
)

# --- What the standards' endpoints read (FHIR R4 and HSDS 3.0) ----------------------------

# One row per resource as a standard shows it, ready to send. Rows are never deleted: a
# resource that leaves the map stays with active = false (FHIR shows it so, history
# included; HSDS and search leave it out), so an agency polling for changes sees it go.
standard_resources = sa.Table(
    "standard_resources",
    metadata,
    sa.Column("standard", sa.String(10), primary_key=True),  # fhir | hsds
    sa.Column("type", sa.String(40), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    # The provider or practice fiche the resource is built from (rebuilt together).
    sa.Column("owner", sa.String(36), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
    sa.Column("latitude", sa.Float(), nullable=True),
    sa.Column("longitude", sa.Float(), nullable=True),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Index("ix_standard_resources_owner", "standard", "owner"),
    sa.Index("ix_standard_resources_updated", "standard", "type", "last_updated"),
    # A list without a term (`/hsds/services`, also since a `modified_after`): its count
    # and its page's ids, index-only on PostgreSQL (migration 0010).
    sa.Index(
        "ix_standard_resources_active",
        "standard",
        "type",
        "active",
        "id",
        postgresql_include=["last_updated"],
    ),
    # A near search's bounding box, per type; with the id, the box is read index-only, and
    # on PostgreSQL a count of the active ones at a point too (migration 0010).
    sa.Index(
        "ix_standard_resources_place",
        "standard",
        "type",
        "latitude",
        "longitude",
        "id",
        postgresql_include=["active"],
    ),
)

# What a resource is found by: `n:<name word>`, `pc:<postcode>`, `city:<municipality>`,
# `organization:<id>`, `practitioner:<id>`, `location:<id>`, `service:<id>`,
# `specialty:<profession>`, `taxonomy:<term id>`.
standard_terms = sa.Table(
    "standard_terms",
    metadata,
    sa.Column("standard", sa.String(10), primary_key=True),
    sa.Column("type", sa.String(40), primary_key=True),
    sa.Column("term", TERM_TYPE, primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Index("ix_standard_terms_resource", "standard", "type", "id", "term"),
)

# Fiches whose hits and standard resources wait to be rebuilt from their facts. A batch
# that finds the consumer behind (a catch-up) records its facts and its fiches here; the
# next batch that finds it caught up (or an idle second) rebuilds them all once.
projection_pending = sa.Table(
    "projection_pending",
    metadata,
    sa.Column("kind", sa.String(10), primary_key=True),  # provider | practice
    sa.Column("fiche_id", sa.String(36), primary_key=True),
)

# The name prefixes of 3 to 7 characters of the standards' `n:` terms (as search_prefixes):
# an HSDS `search=` or FHIR `name=` word of that length reads its resources in id order.
standard_prefixes = sa.Table(
    "standard_prefixes",
    metadata,
    sa.Column("standard", sa.String(10), primary_key=True),
    sa.Column("type", sa.String(40), primary_key=True),
    sa.Column("prefix", TERM_TYPE, primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("term", TERM_TYPE, primary_key=True),
    # Deleted by their whole key with their resource's terms; no foreign key and no index
    # by resource, as above (that index was about 40% of writing them).
)

# How many HSDS records of a type have each stored name prefix: an HSDS page's total for
# one name word, read instead of counted (adapters/prefix_totals.py).
standard_prefix_totals = sa.Table(
    "standard_prefix_totals",
    metadata,
    sa.Column("standard", sa.String(10), primary_key=True),
    sa.Column("type", sa.String(40), primary_key=True),
    sa.Column("prefix", TERM_TYPE, primary_key=True),
    sa.Column("total", sa.Integer(), nullable=False),
)

# One row (id 1): a number the projection raises with every batch it commits. A replica's
# response cache compares it with the one its cached answers were computed at.
projection_generation = sa.Table(
    "projection_generation",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger(), nullable=False),
    # The generation standard_prefix_totals are right at: `generation` while every batch
    # kept them; behind it (or NULL) once a writer that does not keep them committed.
    sa.Column("prefix_totals_at", sa.BigInteger(), nullable=True),
)

outbox, inbox = add_messaging_tables(metadata)

TABLES = ServiceTables(metadata=metadata, outbox=outbox, inbox=inbox)
