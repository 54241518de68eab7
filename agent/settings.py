"""The service's settings in one place: paths, the model server, the LLM client and the API's limits.

Every value has a default and can be set from the environment (`REASONER_` prefix; nested limits with
`__`, e.g. `REASONER_LIMITS__MAX_IN_FLIGHT=16`); command-line options override them per run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiLimits(BaseModel):
    """What the HTTP API accepts."""

    api_key: str | None = None  # bearer token every route but /healthz and the viewer's files requires, when set
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_in_flight: int = Field(64, ge=1)  # questions answered at once; more get a 503 at once
    timeout_seconds: float = Field(120.0, gt=0)  # per question
    max_question_chars: int = Field(2000, ge=1)
    max_batch: int = Field(200, ge=1)  # questions per POST /api/batch
    batch_concurrency: int = Field(8, ge=1)  # questions of one batch answered at once
    max_jobs_kept: int = Field(100, ge=1)  # batch jobs readable at /api/batch/{id}
    drain_bytes: int = 16 * 1024 * 1024  # an over-limit body up to this size is read and dropped before the 413


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REASONER_", env_nested_delimiter="__")

    cache: Path = Path.home() / ".cache" / "reasoner"  # converted models, logs, embeddings, traces
    traces: Path | None = None  # the trace store; default: <cache>/traces.sqlite
    api_key: str | None = None
    llm_timeout: float = 120.0  # seconds per LLM request
    llm_retries: int = 1
    max_model_len: int = 2048  # tokens vLLM holds per sequence
    kv_cache_gb: int = 2  # vLLM's CPU KV cache (VLLM_CPU_KVCACHE_SPACE), unless that is set
    # Tools given a model server of their own with the adapter merged in (comma-separated; "" for none): faster
    # for a hot tool, about 5 GB more each. The others share one server that carries their adapters as LoRA.
    merged: str = "kg"
    # Each tool's own options in the service, by tool name, as JSON: REASONER_TOOL_OPTIONS='{"logic": {"samples": 3}}'.
    tool_options: dict[str, dict[str, Any]] = {}
    otlp_endpoint: str | None = None  # export runs as OpenTelemetry spans to this OTLP/HTTP collector (agent/telemetry.py)
    limits: ApiLimits = ApiLimits()

    @property
    def merged_tools(self) -> set[str]:
        return {t.strip() for t in self.merged.split(",") if t.strip()}

    @property
    def traces_path(self) -> Path:
        return self.traces or self.cache / "traces.sqlite"


def settings() -> Settings:
    """The settings as the environment has them now."""
    return Settings()
