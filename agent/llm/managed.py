"""An LLM client over a model server this process manages: started on first use, so a tool that is never
asked costs nothing, and started again by the next request that finds it gone (stopped, crashed, never up)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from agent.llm.client import LLMClient
from agent.llm.server import ModelServer, ServerError, ServerStatus
from tools.base import LLMCall, LLMUnavailable

log = logging.getLogger(__name__)


class ManagedLLM:
    """Implements the tools' `LLM` protocol. `make` builds the (unstarted) server: it may merge an adapter
    first, so it runs on first use too."""

    def __init__(self, make: Callable[[], ModelServer], name: str, what: str, *, timeout: float = 120.0,
                 max_retries: int = 1, wait: bool = True) -> None:
        self._make = make
        self.name = name  # the model name it asks the server for
        self.what = what  # what it is, for messages: "the logic translator"
        self.wait = wait  # False: while a server that was up is down, fail at once (someone else restarts it)
        self.timeout, self.max_retries = timeout, max_retries
        self.server: ModelServer | None = None
        self._client: LLMClient | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.warming = False  # a start in the background was asked for and has not ended

    def client(self) -> LLMClient:
        """The client of a running server, starting the server first if it is not up."""
        with self._lock:
            if self._closed:
                raise ServerError(f"the model server for {self.what} was stopped (the service is shutting down)")
            if self.server is None:
                log.warning("starting the model server for %s", self.what)
                self.server = self._make()
                self._client = LLMClient(self.server.base_url, self.name, timeout=self.timeout,
                                         max_retries=self.max_retries)
        if not self.wait and self.server.starts and not self.server.running:
            raise LLMUnavailable(f"the model server for {self.what} is down; it is being restarted")
        self.server.ensure_running()  # the server's own lock: one start at a time, requests wait for it
        return self._client

    def warm(self) -> None:
        """Start the server now, in the background; a failure is logged, and met again on first use."""
        self.warming = True  # from now on, not only once the thread has got as far as the server's own start
        threading.Thread(target=self._try_start, name=f"warm-{self.name}", daemon=True).start()

    def _try_start(self) -> None:
        try:
            self.client()
        except (ServerError, OSError) as e:
            log.warning("the model server for %s did not start: %s", self.what, e)
        finally:
            self.warming = False

    def sample(self, **kwargs) -> LLMCall:
        try:
            return self.client().sample(**kwargs)
        except ServerError as e:
            raise LLMUnavailable(f"the model server for {self.what} did not start: {e}") from e
        except LLMUnavailable:
            if self.server is None or self.server.running or not self.wait:
                raise  # it is up and failed this request (a time-out, an error): not a death
            log.warning("the model server for %s died during a request; starting it again", self.what)
        try:  # it died under this request: once more, on a server started again
            return self.client().sample(**kwargs)
        except ServerError as e:
            raise LLMUnavailable(f"the model server for {self.what} did not start again: {e}") from e

    def status(self) -> ServerStatus:
        if self.server is None:
            return ServerStatus(name=self.name, state="not started", detail=f"{self.what}: starts on its first request")
        status = self.server.status()
        status.name = self.name
        return status

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self.server is not None:
                self.server.stop()
