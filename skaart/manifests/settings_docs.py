"""Settings: every pydantic settings class, for docs/settings.md and the network policies."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from contracts.topics import SERVICES
from skaart.manifests.cluster import (
    FRONT_ENDS,
    TOKEN_VERIFYING,
    markdown_cell,
    service_package,
    service_secret_name,
)


@dataclass(frozen=True)
class SettingDoc:
    """One environment variable a service reads."""

    env: str
    default: str
    service: str
    secret: bool
    description: str
    settings_class: str


def _classes_in(module: types.ModuleType) -> list[type[BaseSettings]]:
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseSettings) and cls.__module__ == module.__name__
    ]


def settings_classes() -> list[tuple[str, type[BaseSettings]]]:
    """(service or `all`, class): the shared classes (every settings class in servicekit,
    platform and Kafka first), then each service's `<package>.config`."""
    import servicekit
    from servicekit.settings import KafkaSettings, PlatformSettings

    found: list[tuple[str, type[BaseSettings]]] = [
        ("all", PlatformSettings),
        ("all", KafkaSettings),
    ]
    modules = sorted(
        info.name for info in pkgutil.walk_packages(servicekit.__path__, "servicekit.")
    )
    for name in modules:
        for cls in _classes_in(importlib.import_module(name)):
            if cls not in (PlatformSettings, KafkaSettings):
                found.append(("all", cls))
    for service in (*SERVICES, *FRONT_ENDS):
        module = importlib.import_module(f"{service_package(service)}.config")
        found.extend((service, cls) for cls in _classes_in(module))
    return found


def _env_name(cls: type[BaseSettings], name: str, field: FieldInfo) -> str:
    if isinstance(field.validation_alias, str):
        return field.validation_alias.upper()
    prefix = str(cls.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


def _mentions_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) or origin is not None:
        return any(_mentions_secret(arg) for arg in typing.get_args(annotation))
    return False


SECRET_NAME_SUFFIXES = ("database_url", "redis_url")
"""URLs that carry credentials: secret even though they are plain strings."""


def is_secret(name: str, field: FieldInfo) -> bool:
    """SecretStr fields, and the URLs that carry credentials."""
    return _mentions_secret(field.annotation) or name.endswith(SECRET_NAME_SUFFIXES)


def _default(field: FieldInfo, secret: bool) -> str:
    if field.default_factory is not None:
        return "(computed)"
    value = field.default
    if value is PydanticUndefined:
        return "required"
    if value is None or value == "":
        return "unset"
    if isinstance(value, SecretStr):
        return "development value"
    if hasattr(value, "value") and not isinstance(value, int | float | str):
        value = value.value  # an enum
    return f"`{value}`"


def settings_docs() -> list[SettingDoc]:
    """Every setting, once (the first class that reads an environment variable wins)."""
    docs: list[SettingDoc] = []
    seen: set[str] = set()
    for service, cls in settings_classes():
        for name, field in cls.model_fields.items():
            env = _env_name(cls, name, field)
            if env in seen:
                continue
            seen.add(env)
            secret = is_secret(name, field)
            description = " ".join((field.description or "").split())
            docs.append(
                SettingDoc(
                    env=env,
                    default=_default(field, secret),
                    service=service,
                    secret=secret,
                    description=description,
                    settings_class=f"{cls.__module__}.{cls.__name__}",
                )
            )
    return docs


def secret_source(doc: SettingDoc) -> str:
    """Where a setting comes from in Kubernetes."""
    if doc.env == "KAFKA_SASL_PASSWORD":
        return "Secret `skaart-<service>` (made by Strimzi), key `password`"
    if doc.secret:
        owner = "<service>" if doc.service == "all" else doc.service
        return f"Secret `{service_secret_name(owner)}`"
    return "ConfigMap"


def settings_table_markdown() -> str:
    """The settings table of docs/settings.md."""
    rows = [
        "| Variable | Default | Service | Secret | In Kubernetes | Meaning |",
        "|---|---|---|---|---|---|",
    ]
    for doc in settings_docs():
        readers = SHARED_BY_SOME.get(doc.settings_class)
        service = ", ".join(sorted(readers)) if readers else doc.service
        rows.append(
            f"| `{doc.env}` | {markdown_cell(doc.default)} | {service} | "
            f"{'yes' if doc.secret else 'no'} | {secret_source(doc)} | "
            f"{markdown_cell(doc.description)} |"
        )
    rows.append("")
    rows.append(
        "Keys of each service's Secret (a shared one, such as `AUTH_REDIS_URL`, goes in the "
        "Secret of every service that reads it; a key left out takes its default):"
    )
    rows.append("")
    rows.append("| Secret | Keys |")
    rows.append("|---|---|")
    for service in (*SERVICES, *FRONT_ENDS):
        keys = [doc.env for doc in service_secret_settings(service)]
        rows.append(f"| `{service_secret_name(service)}` | {', '.join(f'`{k}`' for k in keys)} |")
    return "\n".join(rows) + "\n"


SHARED_BY_SOME = {"servicekit.auth.AuthSettings": TOKEN_VERIFYING}
"""Shared settings classes that only some services read; every other shared class is read
by every service."""


def reads(service: str, doc: SettingDoc) -> bool:
    """Whether `service` reads the setting: its own, or a shared one its code uses."""
    if doc.service == service:
        return True
    return doc.service == "all" and service in SHARED_BY_SOME.get(doc.settings_class, {service})


def service_secret_settings(service: str) -> list[SettingDoc]:
    """The secret settings one service's Secret provides (not the Strimzi password)."""
    return [
        doc
        for doc in settings_docs()
        if doc.secret and reads(service, doc) and doc.env != "KAFKA_SASL_PASSWORD"
    ]


def service_settings(service: str) -> set[str]:
    """The environment variables `service` reads, its own and the shared ones it uses."""
    return {doc.env for doc in settings_docs() if reads(service, doc)}
