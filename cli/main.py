"""The `capacity` entry point: one module per noun, composed here.

Nothing heavy is imported at start-up: commands import pydantic, pulumi or a cloud SDK inside
their own bodies, so `--help`, `validate` and `diff` stay fast and never load a cloud SDK.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from capacity.cli import catalog, deploy, engine, inventory, plan, resources, review
from capacity.cli import fit
from capacity.cli.output import Handled

# NO_COLOR: Click's own messages (--install-completion's) have no colour either
NO_CLICK_COLOR = {"color": False} if os.environ.get("NO_COLOR") else {}

app = typer.Typer(
    cls=Handled,
    name="capacity",
    help="GPU capacity as code: plan it in YAML, review it in pull requests, deploy it with Pulumi.\n\n"
         "A plan argument of - reads the plan from stdin. The asked-for output goes to stdout; errors and "
         "progress to stderr. Exit codes: 0 success, 1 invalid plan or failed operation, 2 wrong command line. "
         "Every command and flag: docs/cli.md.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,  # plain help: rich would double the start-up time of --help
    context_settings={"help_option_names": ["-h", "--help"], **NO_CLICK_COLOR},
)


def _version(value: bool) -> None:
    if not value:
        return
    from importlib import metadata

    from capacity.engine.pulumi_cli import PULUMI_CLI_VERSION

    sys.stdout.write(f"capacity {metadata.version('capacity')} (Pulumi SDK {metadata.version('pulumi')}, "
                     f"Pulumi CLI {PULUMI_CLI_VERSION})\n")
    raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version of capacity and of the Pulumi it uses, and exit.")]
    = False,
) -> None:
    """The options before any command (--version, shell completion)."""


# Plans, reviews, deploys, owned data centers: in the order of --help.
for command in (plan.validate, plan.schema, catalog.catalog, resources.resources, review.diff, review.report,
                review.calendar,
                *deploy.COMMANDS):
    app.command()(command)
app.command()(fit.available)
app.command()(fit.fit)
app.add_typer(deploy.stacks_app)
app.add_typer(engine.app)
app.add_typer(inventory.app, name="inventory")


def run() -> None:
    """Console script: user errors never show a traceback (CAPACITY_DEBUG=1 shows internal ones)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("CAPACITY_DEBUG"):
            raise
        sys.stderr.write(f"capacity: internal error: {type(exc).__name__}: {exc}\n"
                         "This is a bug; run again with CAPACITY_DEBUG=1 for details and report it.\n")
        sys.exit(1)


if __name__ == "__main__":
    run()
