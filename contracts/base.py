"""The base every event derives from, and the lookup from CloudEvents type to class."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

#: Prefix of every CloudEvents `type` this platform emits (reverse-DNS, as CloudEvents advises).
EVENT_TYPE_PREFIX = "be.socialekaart."

_EVENT_CLASSES: dict[str, type[Event]] = {}


class Event(BaseModel):
    """An immutable fact that happened in one service, published on one topic.

    Unknown fields are ignored when reading, so a consumer keeps working when a later
    minor version adds an optional field (see docs/contracts.md for the promise).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: CloudEvents `type`, e.g. ``be.socialekaart.registry.ProfessionalRegistered``.
    event_type: ClassVar[str]
    #: The topic the event is published on.
    topic: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is not None:
            if event_type in _EVENT_CLASSES:
                raise TypeError(f"event type {event_type!r} is declared twice")
            _EVENT_CLASSES[event_type] = cls

    def partition_key(self) -> str:
        """The Kafka key: the aggregate's id, so one aggregate's events stay in order."""
        raise NotImplementedError

    def subject(self) -> str:
        """CloudEvents `subject`: the aggregate the event is about (the same as the key)."""
        return self.partition_key()


def event_class_for_type(event_type: str) -> type[Event] | None:
    """The event class declared for a CloudEvents type, or None for an unknown type."""
    # Importing the modules registers their classes.
    import contracts.events  # noqa: F401

    return _EVENT_CLASSES.get(event_type)


def all_event_classes() -> dict[str, type[Event]]:
    """Every declared event class by CloudEvents type."""
    import contracts.events  # noqa: F401

    return dict(_EVENT_CLASSES)
