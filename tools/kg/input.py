"""The KG tool's task: its typed input (the topic, when the caller knows it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class KGInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str | None = None  # the topic entity, when the caller knows it (no linking then)
