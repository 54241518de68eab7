"""The `reasoner` command: a thin shell over the library, one module per subject.

A command imports what it runs when it runs: the command modules import only what their options need, so
`reasoner --help` and a command's first line do not wait for every library of every tool."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.markup import escape

from agent import telemetry
from agent.cli import kg as kg_commands
from agent.cli.adapter import distill_command
from agent.cli.answer import ask, batch
from agent.cli.distill import distill
from agent.cli.induce import induce
from agent.cli.logic import logic
from agent.cli.plan import plan
from agent.cli.regress import regress
from agent.cli.run import run_command
from agent.cli.search import train_search
from agent.cli.serve import serve
from agent.cli.train import train
from agent.llm.server import ServerError
from tools.base import LLMUnavailable
from tools.registry import registered

app = typer.Typer(help="Neuro-symbolic reasoning: a language model plans, symbolic tools ground and check every step.", no_args_is_help=True, add_completion=False)
app.add_typer(kg_commands.app, name="kg")
app.command()(ask)
app.command()(serve)
app.command()(plan)
app.command()(train)
app.command("train-search")(train_search)

# By tool: `reasoner run TOOL --tasks FILE --out FILE`, `reasoner distill TOOL --out DIR`.
BY_TOOL = {"kg": (batch, distill), "logic": (logic, distill_command(registered()["logic"])),
           "induce": (induce, distill_command(registered()["induce"])), "regress": (regress, distill_command(registered()["regress"]))}
run_app = typer.Typer(help="Run one tool over a file of tasks, a JSON line each (resumable).", no_args_is_help=True)
distill_app = typer.Typer(help="Fine-tune one tool's adapter of the embedded model on data mined or generated for it.",
                          no_args_is_help=True)
for name, (run_one, distill_one) in BY_TOOL.items():
    run_app.command(name)(run_one)
    distill_app.command(name)(distill_one)
for name, spec in registered().items():  # installed tools: the generic batch command
    if name not in BY_TOOL:
        run_app.command(name)(run_command(spec))
app.add_typer(run_app, name="run")
app.add_typer(distill_app, name="distill")
# The names these had before, kept as aliases.
ALIASES = {"batch": ("run", "kg"), "logic": ("run", "logic"), "induce": ("run", "induce"), "regress": ("run", "regress"),
           "distill-logic": ("distill", "logic"), "distill-induce": ("distill", "induce"), "distill-regress": ("distill", "regress")}
for alias, (group, tool) in ALIASES.items():
    app.command(alias, hidden=True, help=f"The same as `reasoner {group} {tool}`.")(BY_TOOL[tool][group == "distill"])

def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    telemetry.setup()
    try:
        app()
    except Exception as e:
        if _users_mistake(e):
            message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(message))}", highlight=False)
            sys.exit(2)
        if _models_failure(e):
            Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] the model server failed: {escape(str(e))}",
                                                       highlight=False)
            sys.exit(1)
        raise


def _users_mistake(e: Exception) -> bool:
    """A mistake the user can fix, shown as one line without a traceback: a bad file or option (the library's
    format errors are ValueErrors), a graph store that cannot be opened, a model server that cannot start."""
    return isinstance(e, (OSError, KeyError, ValueError, ServerError, *_loaded("kg.rdf", "StoreError")))


def _models_failure(e: Exception) -> bool:
    """A model server that failed: nothing the user typed is wrong, but there is no more to show than what failed."""
    return isinstance(e, (LLMUnavailable, *_loaded("openai", "APIError")))


def _loaded(module: str, name: str) -> tuple[type, ...]:
    """The class `name` of `module` if that module was imported: an error of a module never loaded was not raised
    (the graph store and the OpenAI client are not imported for every command)."""
    return (getattr(sys.modules[module], name),) if module in sys.modules else ()
