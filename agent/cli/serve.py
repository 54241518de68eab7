"""`reasoner serve`: the HTTP service (chat API and native API) on loopback."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from agent.cli.answer import TracesOpt, traces_path
from agent.cli.common import DEFAULT_KG, DEFAULT_LLM_MODEL, ExamplesOpt, KgOpt, LlmModelOpt, ModelOpt, PlannerOpt, UrlOpt, err
from agent.service import open_agent
from agent.traces import TraceStore


def serve(
    kg_path: KgOpt = DEFAULT_KG,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    planner: PlannerOpt = "auto",
    model: ModelOpt = None,
    llm_url: UrlOpt = None,
    llm_model: LlmModelOpt = DEFAULT_LLM_MODEL,
    examples: ExamplesOpt = None,
    traces: TracesOpt = None,
    api_key: Annotated[Optional[str], typer.Option(envvar="REASONER_API_KEY", help="Require Authorization: Bearer KEY on every route but /healthz.")] = None,
    max_in_flight: Annotated[int, typer.Option(help="Questions answered at once; more get a 503.")] = 64,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per question.")] = 120.0,
) -> None:
    """Start the model server and the agent, then serve the chat and native APIs until Ctrl-C."""
    import uvicorn

    from serve import Limits, create_app

    store = TraceStore(traces_path(traces))
    with open_agent(kg_path, planner=planner, model=model, llm_url=llm_url, llm_model=llm_model, examples=examples) as agent:
        if agent.planner_name == "embedding":  # the app's health check and chat API assume a model server for now
            raise ValueError("serve runs an LLM planner; the embedding planner is chosen per request once the API has its 'planner' field")
        limits = Limits(api_key=api_key, max_in_flight=max_in_flight, timeout_seconds=timeout)
        app = create_app(agent, store, llm_url=str(agent.planner.client.base_url), limits=limits)
        err.print(f"serving on http://{host}:{port}  (OpenAI base URL http://{host}:{port}/v1, model 'reasoner')")
        uvicorn.run(app, host=host, port=port, log_level="warning")
