"""Where each tool's LLM comes from: the model servers this process manages, or a server at a URL.

Managed, the tools share one vLLM server of the base model that carries every tool's adapter as a LoRA
module, and each tool asks for its adapter by the tool's name ("kg", "logic", "induce", "regress"). A hot
tool named in `merged` gets a server of its own with its adapter merged into the weights instead: about
3.5 times the requests per second on this CPU, for about 5 GB more (bench/serve.py). A tool alone on the
LoRA server is merged too, since the server would cost the same and run slower.

Remote (`llm_url`), every tool asks that server for its adapter by the same names, or for `llm_model` when
one model serves them all. For a GPU box:

    vllm serve HuggingFaceTB/SmolLM2-135M-Instruct --served-model-name base --enable-lora --max-lora-rank 16 \\
        --lora-modules kg=tools/kg/planners/metaqa logic=tools/logic/adapter \\
                       induce=tools/induce/adapter regress=tools/regress/adapter
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from agent.llm.client import LLMClient
from agent.llm.managed import ManagedLLM
from agent.llm.server import ModelServer, ServerError, ServerStatus, check_reachable
from agent.llm.weights import merged_model_dir
from agent.settings import settings
from tools.base import LLM


@dataclass
class Wanted:
    """What a tool samples from: its adapter (None: the base model), or another model of its own."""

    tool: str
    adapter: Path | None
    what: str  # for messages: "the logic translator"
    model: str | None = None  # a model name or directory served alone instead of the embedded base


class Backend:
    """The LLMs of a process's tools (`llm`), and the state of their servers for /healthz (`statuses`)."""

    def __init__(self, llm_url: str | None = None, llm_model: str | None = None, *, merged: set[str] | None = None,
                 watch: bool = False) -> None:
        self.llm_url, self.llm_model = llm_url, llm_model
        self.merged = settings().merged_tools if merged is None else set(merged)
        self.watch = watch  # restart a managed server in the background whenever it dies
        self.wanted: dict[str, Wanted] = {}
        self.llms: dict[str, LLM] = {}  # by tool
        self.servers: dict[str, ModelServer] = {}  # by tool: several tools may share one
        self._shared: list[str] | None = None  # the tools on the LoRA server, fixed when the first server is made
        self._lock = threading.Lock()

    def llm(self, tool: str, adapter: Path | None, what: str, *, model: str | None = None, wait: bool = True) -> LLM:
        """The LLM `tool` samples from, its server started on first use. `wait=False`: while a server that was up
        is restarting, a request fails at once instead of waiting (the KG tool's fallback planner answers)."""
        config = settings()
        if self.llm_url:
            llm = LLMClient(self.llm_url, self.llm_model or tool, timeout=config.llm_timeout, max_retries=config.llm_retries)
        else:
            if self._shared is not None:
                raise RuntimeError(f"{tool!r} asked for its LLM after the model servers were laid out; ask before the first request")
            self.wanted[tool] = Wanted(tool, adapter, what, model)
            llm = ManagedLLM(lambda: self._server(tool), tool, what, timeout=config.llm_timeout,
                             max_retries=config.llm_retries, wait=wait)
        self.llms[tool] = llm
        return llm

    def _server(self, tool: str) -> ModelServer:
        """The server `tool` samples from, made (not started) on first use; the layout is fixed then."""
        with self._lock:
            if self._shared is None:
                self._shared = [w.tool for w in self.wanted.values() if w.model is None and w.tool not in self.merged]
                if len(self._shared) == 1 and self.wanted[self._shared[0]].adapter is not None:
                    self._shared = []  # alone: merged is as big and faster
            if tool not in self.servers:
                if tool in self._shared:
                    server = self._lora_server()
                    self.servers.update(dict.fromkeys(self._shared, server))
                else:
                    wanted = self.wanted[tool]
                    model = str(merged_model_dir(wanted.adapter)) if wanted.adapter else wanted.model
                    self.servers[tool] = ModelServer(model, served_name=tool, watch=self.watch)
            return self.servers[tool]

    def _lora_server(self) -> ModelServer:
        """The base model, served as "base" and as the name of each tool that samples from it bare, with
        every other tool's adapter as a LoRA module under the tool's name."""
        wanted = [self.wanted[t] for t in self._shared]
        return ModelServer(None, aliases=[w.tool for w in wanted if w.adapter is None],
                           lora={w.tool: w.adapter for w in wanted if w.adapter is not None}, watch=self.watch)

    def warm(self, *tools: str) -> None:
        """Start these tools' servers now, in the background."""
        for tool in tools:
            llm = self.llms.get(tool)
            if isinstance(llm, ManagedLLM):
                llm.warm()

    def start(self, tool: str) -> ModelServer | None:
        """Start `tool`'s server now and wait for it (ServerError if it does not come up); the server, if managed."""
        llm = self.llms.get(tool)
        if isinstance(llm, ManagedLLM):
            llm.client()
        return self.servers.get(tool)

    def statuses(self) -> list[ServerStatus]:
        """Each tool's server: its state as known here, and whether one that should be up answers."""
        statuses = []
        for tool, llm in self.llms.items():
            server = self.servers.get(tool)
            if isinstance(llm, ManagedLLM) and server is not None:  # made: by this tool, or by one sharing it
                status = server.status()
                status.name = llm.name
                status.shared_with = sorted(t for t, s in self.servers.items() if s is server and t != tool)
            elif isinstance(llm, ManagedLLM):
                status = llm.status()
            else:
                status = ServerStatus(name=llm.model, state="up", url=llm.base_url, detail="remote")
            status.tool = tool
            if status.state == "not started" and self._warming(tool):
                status.state, status.detail = "starting", "started in the background"
            if status.state == "up":
                try:
                    check_reachable(status.url, timeout=3)
                except ServerError as e:
                    status.state, status.detail = "down", str(e)
            statuses.append(status)
        return statuses

    def _warming(self, tool: str) -> bool:
        """Whether `tool`'s server, or the one it shares, is being started in the background."""
        server = self.servers.get(tool)
        return any(isinstance(llm, ManagedLLM) and llm.warming and (t == tool or (server is not None and self.servers.get(t) is server))
                   for t, llm in self.llms.items())

    def close(self) -> None:
        for llm in self.llms.values():
            if isinstance(llm, ManagedLLM):
                llm.close()
        for server in set(self.servers.values()):
            server.stop()
