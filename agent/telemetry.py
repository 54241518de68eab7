"""Runs exported as OpenTelemetry spans (OTLP over HTTP), when an endpoint is configured.

The SQLite trace store stays the record and the viewer's source; these spans are a copy for the tools teams
already keep their agents' traces in (Arize Phoenix, Langfuse, LangSmith all take OTLP). The endpoint is the
standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), or the setting
`REASONER_OTLP_ENDPOINT`; `OTEL_SERVICE_NAME` and `OTEL_EXPORTER_OTLP_HEADERS` are read as usual.

One run is one trace, named by the GenAI semantic conventions:

    invoke_agent reasoner          the run: question, trace id, tool, status, answers
      route, frame, plan, ...      a span per step, as long as the step took
        chat <model>               a plan step's model calls: gen_ai.* with token usage
        execute_tool <tool>        the ground step's call of the tool

Steps are reported when they end (the graph streams them), so each span is opened with its real start time
and closed at once.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode

from agent.settings import settings

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_provider: TracerProvider | None = None


def setup() -> bool:
    """Start exporting when an endpoint is configured (once per process); whether spans are exported."""
    global _provider
    if _provider is not None:
        return True
    endpoint = settings().otlp_endpoint
    if not (endpoint or any(os.environ.get(v) for v in ENDPOINT_VARIABLES)):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces") if endpoint else OTLPSpanExporter()
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "reasoner")})
    _provider = TracerProvider(resource=resource)
    _provider.add_span_processor(BatchSpanProcessor(exporter))
    return True


def flush() -> None:
    """Send what is queued (a worker process about to end, a command about to exit)."""
    if _provider is not None:
        _provider.force_flush()


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


class RunSpans:
    """The spans of one run, opened as its steps end. A no-op when nothing is exported."""

    def __init__(self, question: str, trace_id: str) -> None:
        self.tracer = _provider.get_tracer("reasoner") if _provider else None
        self.root: Span | None = None
        if self.tracer:
            self.root = self.tracer.start_span("invoke_agent reasoner", kind=trace.SpanKind.INTERNAL, attributes={
                "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "reasoner",
                "reasoner.trace_id": trace_id, "reasoner.question": question[:1000], "process.pid": os.getpid()})

    def step(self, node: str, seconds: float, update: dict[str, Any], tool: str | None) -> None:
        if self.root is None:
            return
        ended = time.time()
        parent = trace.set_span_in_context(self.root)
        span = self.tracer.start_span(node, context=parent, start_time=_ns(ended - seconds), attributes={"reasoner.step": node})
        inside = trace.set_span_in_context(span)
        if node == "plan" and update.get("proposals"):
            at = ended - seconds
            for call in update["proposals"][-1].calls:
                self._call(call, inside, at)
                at += call.seconds
        if node == "ground" and tool:
            done = self.tracer.start_span(f"execute_tool {tool}", context=inside, start_time=_ns(ended - seconds), attributes={
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool, "gen_ai.tool.type": "function"})
            done.end(end_time=_ns(ended))
        if node == "check":
            failed = [c.name for c in update.get("checks") or [] if not c.passed]
            span.set_attribute("reasoner.checks_failed", failed)
        span.end(end_time=_ns(ended))

    def _call(self, call: Any, parent: context.Context, started: float) -> None:
        operation = "text_completion" if call.messages and call.messages[0].get("role") == "prompt" else "chat"
        span = self.tracer.start_span(f"{operation} {call.model}", context=parent, kind=trace.SpanKind.CLIENT,
                                      start_time=_ns(started), attributes={
            "gen_ai.operation.name": operation, "gen_ai.provider.name": "vllm", "gen_ai.request.model": call.model,
            "gen_ai.usage.input_tokens": call.usage.get("prompt_tokens", 0),
            "gen_ai.usage.output_tokens": call.usage.get("completion_tokens", 0),
            "gen_ai.response.finish_reasons": list(call.finish), "reasoner.samples": len(call.raw)})
        span.end(end_time=_ns(started + call.seconds))

    def finish(self, status: str, tool: str | None, answers: list[str], error: str | None = None) -> None:
        if self.root is None:
            return
        self.root.set_attributes({"reasoner.status": status, "reasoner.tool": tool or "none",
                                  "reasoner.answers": answers[:20], "reasoner.answer_count": len(answers)})
        if error is not None:
            self.root.set_status(Status(StatusCode.ERROR, error))
        self.root.end()
