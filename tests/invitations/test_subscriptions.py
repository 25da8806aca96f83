"""What invitations consumes is declared in one place, entrypoints/kafka.py."""

from __future__ import annotations

import ast
from pathlib import Path

from contracts.events.fiches import MANAGERS_TOPIC, PracticeManagersChanged
from contracts.events.identity import SIGNING_KEYS_TOPIC
from invitations.entrypoints.app import SERVICE, build_component
from invitations.entrypoints.kafka import subscriptions
from invitations.handlers.managers_view import practice_managers_changed
from servicekit.auth import AuthSettings
from servicekit.settings import Environment, KafkaSettings, PlatformSettings
from tests.invitations.harness import REDIS_URL, invitation_settings

HANDLERS = Path(__file__).resolve().parents[2] / "services/invitations/invitations/handlers"


async def test_the_component_consumes_what_entrypoints_kafka_declares(tmp_path: Path) -> None:
    component = build_component(
        PlatformSettings(environment=Environment.DEVELOPMENT, data_dir=tmp_path),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        invitation_settings(f"sqlite+aiosqlite:///{tmp_path / 'i.db'}", "test:unused:"),
        AuthSettings(redis_url=REDIS_URL),
    )
    try:
        consumed = component.runtime.subscriptions
        assert [(s.name, s.topics, set(s.handlers)) for s in consumed] == [
            (s.name, s.topics, set(s.handlers)) for s in subscriptions(SERVICE)
        ]
        managers, keys = consumed
        assert managers.topics == (MANAGERS_TOPIC,)
        assert managers.handlers[PracticeManagersChanged] is practice_managers_changed
        assert keys.topics == (SIGNING_KEYS_TOPIC,)
    finally:
        await component.runtime.stop()


def test_handlers_declare_no_subscription() -> None:
    for module in HANDLERS.glob("*.py"):
        names = {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(ast.parse(module.read_text()))
            if isinstance(node, ast.Name | ast.Attribute)
        }
        assert "Subscription" not in names, module.name
