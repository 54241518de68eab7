"""The `reasoner` command: a thin shell over the library, one module per subject."""

from __future__ import annotations

import logging
import sys

import typer
from openai import APIError
from rich.console import Console
from rich.markup import escape

from agent.cli import kg as kg_commands
from agent.cli.answer import ask, batch
from agent.cli.distill import distill
from agent.cli.formulas import distill_regress
from agent.cli.induce import induce
from agent.cli.logic import logic
from agent.cli.plan import plan
from agent.cli.proposer import distill_induce
from agent.cli.regress import regress
from agent.cli.search import train_search
from agent.cli.serve import serve
from agent.cli.train import train
from agent.cli.translator import distill_logic
from agent.llm.server import ServerError
from agent.train import TrainError
from kg.questions import QuestionFormatError
from kg.store import KGFormatError
from tools.base import LLMUnavailable
from tools.induce.task import TaskError
from tools.regress.data import DataError

app = typer.Typer(help="Neuro-symbolic reasoning: a language model plans, symbolic tools ground and check every step.", no_args_is_help=True, add_completion=False)
app.add_typer(kg_commands.app, name="kg")
app.command()(plan)
app.command()(train)
app.command()(distill)
app.command("train-search")(train_search)
app.command("distill-logic")(distill_logic)
app.command("distill-induce")(distill_induce)
app.command("distill-regress")(distill_regress)
app.command()(ask)
app.command()(batch)
app.command()(logic)
app.command()(induce)
app.command()(regress)
app.command()(serve)

# Mistakes a user can fix: shown as one line, without a traceback.
USER_ERRORS = (TrainError, KGFormatError, TaskError, DataError, QuestionFormatError, OSError, KeyError, ValueError, ServerError)
# A model server that fails: nothing the user typed is wrong, but there is no more to show than what failed.
MODEL_ERRORS = (LLMUnavailable, APIError)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        app()
    except USER_ERRORS as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(message))}", highlight=False)
        sys.exit(2)
    except MODEL_ERRORS as e:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] the model server failed: {escape(str(e))}",
                                                   highlight=False)
        sys.exit(1)
