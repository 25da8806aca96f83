"""The platform's message contracts: every topic, its key, and every event on it.

Services talk only through the topics declared here. Agencies that do not use Python
read the generated JSON Schema files in `contracts/schemas/` and the AsyncAPI document
`contracts/asyncapi.json`.
"""

from contracts.base import Event, event_class_for_type
from contracts.topics import TOPICS, TopicSpec, Visibility, topic_for_event

__all__ = ["TOPICS", "Event", "TopicSpec", "Visibility", "event_class_for_type", "topic_for_event"]
