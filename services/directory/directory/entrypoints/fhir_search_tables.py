"""What FHIR searches this server takes, per resource type: parameters, `_include` and
`_revinclude` values (read by the parser, fhir_parameters, and the CapabilityStatement)."""

from __future__ import annotations

TYPES = ("Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService")

COMMON = (
    "_id",
    "_lastUpdated",
    "_count",
    "_offset",
    "_include",
    "_revinclude",
    "_format",
    "_summary",
    "_total",
    "_elements",
    "_pretty",
)

JSON_FORMATS = ("json", "application/json", "application/fhir+json")
"""`_format` values this server answers (a MIME type's parameters such as
`;fhirVersion=4.0` aside): JSON is all it serves."""

SEARCH_PARAMETERS: dict[str, dict[str, str]] = {
    "Practitioner": {
        "name": "string",
        "family": "string",
        "given": "string",
        "active": "token",
        "identifier": "token",
    },
    "Organization": {
        "name": "string",
        "active": "token",
        "address-postalcode": "string",
        "address-city": "string",
        "type": "token",
        "identifier": "token",
        "partof": "reference",
    },
    "Location": {
        "name": "string",
        "status": "token",
        "type": "token",
        "identifier": "token",
        "address-postalcode": "string",
        "address-city": "string",
        "organization": "reference",
        "near": "special",
    },
    "HealthcareService": {
        "name": "string",
        "active": "token",
        "identifier": "token",
        "organization": "reference",
        "location": "reference",
        "specialty": "token",
        "service-type": "token",
        "address-postalcode": "string",
        "address-city": "string",
        "near": "special",
    },
    "PractitionerRole": {
        "active": "token",
        "practitioner": "reference",
        "organization": "reference",
        "location": "reference",
        "service": "reference",
        "specialty": "token",
        "role": "token",
        "address-postalcode": "string",
        "address-city": "string",
        "near": "special",
    },
}
"""Per type: the parameters it takes and their FHIR type (mCSD's `identifier` on a
practice's resources, which carry none on the public topics, and `partof`, as no practice
is part of another, find nothing). On PractitionerRole and
HealthcareService, `address-postalcode`, `address-city` and `near` are this server's
shorthand for the same parameters of their Location (`location.address-postalcode`)."""

INCLUDES: dict[str, dict[str, tuple[str, str]]] = {
    "PractitionerRole": {
        "PractitionerRole:practitioner": ("practitioner", "Practitioner"),
        "PractitionerRole:organization": ("organization", "Organization"),
        "PractitionerRole:location": ("location", "Location"),
        "PractitionerRole:service": ("healthcareService", "HealthcareService"),
    },
    "Location": {"Location:organization": ("managingOrganization", "Organization")},
    "HealthcareService": {
        "HealthcareService:organization": ("providedBy", "Organization"),
        "HealthcareService:location": ("location", "Location"),
    },
}
"""`_include` values per searched type: (element holding the reference, type it points to)."""

REVINCLUDES: dict[str, dict[str, tuple[str, str]]] = {
    "Practitioner": {"PractitionerRole:practitioner": ("PractitionerRole", "practitioner")},
    "Organization": {
        "PractitionerRole:organization": ("PractitionerRole", "organization"),
        "Location:organization": ("Location", "organization"),
        "HealthcareService:organization": ("HealthcareService", "organization"),
    },
    "Location": {
        "PractitionerRole:location": ("PractitionerRole", "location"),
        "HealthcareService:location": ("HealthcareService", "location"),
    },
    "HealthcareService": {"PractitionerRole:service": ("PractitionerRole", "service")},
}
"""`_revinclude` values per searched type: (type that refers, its term prefix)."""
