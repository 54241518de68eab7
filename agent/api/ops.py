"""Operations: health (with the model server's state), Prometheus metrics, the tools and planners served."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from agent.api.state import AppState, errors, state
from agent.llm.server import ServerStatus
from tools.registry import registered

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str  # ok | degraded: a model server that should answer does not (down, or restarting after it died)
    model_servers: list[ServerStatus]  # each tool's: not started (starts on first use), starting, up, restarting, down
    planners: list[str]
    answering: int = 0


class Planners(BaseModel):
    default: str
    planners: list[str]


class ToolInfo(BaseModel):
    name: str
    answers: str  # what kind of message it serves, in the words the service uses to describe itself
    available: bool = True  # registered (served or not: see `served`)


class Tools(BaseModel):
    tools: list[ToolInfo]  # every tool, with whether it is available
    served: list[str]  # the tools this service answers with


@router.get("/healthz", responses={503: {"model": Health, "description": "a model server does not answer"}})
def healthz(app: AppState = Depends(state)) -> Health:
    servers = app.backend.statuses()
    degraded = any(s.state in ("down", "restarting") for s in servers)
    health = Health(status="degraded" if degraded else "ok", model_servers=servers, planners=list(app.agents),
                    answering=app.slots.used)
    return JSONResponse(health.model_dump(), status_code=503) if degraded else health


@router.get("/api/planners", responses=errors())
def planners(app: AppState = Depends(state)) -> Planners:
    return Planners(default=app.default_planner, planners=list(app.agents))


@router.get("/api/tools", responses=errors())
def tools(app: AppState = Depends(state)) -> Tools:
    served = sorted({name for agent in app.agents.values() for name in agent.tools})
    return Tools(tools=[ToolInfo(name=s.name, answers=s.answers) for s in registered().values()], served=served)


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"}} | errors())
def metrics(app: AppState = Depends(state)) -> PlainTextResponse:
    app.metrics.model_servers(app.backend.statuses())
    return PlainTextResponse(generate_latest(app.metrics.registry), media_type=CONTENT_TYPE_LATEST)
