"""What notifications consumes is declared in one place, entrypoints/kafka.py."""

from __future__ import annotations

import ast
from pathlib import Path

from notifications.config import Settings
from notifications.entrypoints.app import build_component
from notifications.entrypoints.kafka import subscriptions
from notifications.handlers.mail_requests import MailRequestHandlers
from servicekit.sealing import OpeningKey
from servicekit.settings import Environment, KafkaSettings, PlatformSettings

HANDLERS = Path(__file__).resolve().parents[2] / "services/notifications/notifications/handlers"


def test_the_component_consumes_what_entrypoints_kafka_declares(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}",
        smtp_host="relay",
        mail_private_keys=OpeningKey.generate().text(),
    )
    component = build_component(
        PlatformSettings(environment=Environment.PRODUCTION, data_dir=tmp_path),
        KafkaSettings(bootstrap_servers="127.0.0.1:1"),
        settings,
    )
    declared = subscriptions(MailRequestHandlers(keys=settings.key_ring()))
    consumed = component.runtime.subscriptions
    assert [(s.name, s.topics, set(s.handlers)) for s in consumed] == [
        (s.name, s.topics, set(s.handlers)) for s in declared
    ]
    assert [s.name for s in consumed] == ["mail-requests"]


def test_handlers_declare_no_subscription() -> None:
    for module in HANDLERS.glob("*.py"):
        names = {
            node.id if isinstance(node, ast.Name) else node.attr
            for node in ast.walk(ast.parse(module.read_text()))
            if isinstance(node, ast.Name | ast.Attribute)
        }
        assert "Subscription" not in names, module.name
