"""The command reference, docs/cli.md, generated from the CLI itself:

    python -m capacity.cli.reference > docs/cli.md

Every command and group the entry point composes is walked, so a new command or flag appears
here without any change to this file; a test fails while docs/cli.md is behind.
"""

from __future__ import annotations

import inspect
import sys

INTRO = """\
# Command reference

<!-- Generated from the CLI by `python -m capacity.cli.reference > docs/cli.md`; do not edit by hand.
     tests/unit/cli/test_reference.py fails when this page is behind the CLI. -->

`capacity -h` (or `--help`) after any command shows the same text in the terminal.

## Conventions

- **A plan from stdin.** Every command that takes a plan reads it from standard input when the
  plan is `-` (`validate`, `resources`, `diff` on either side, `report`, `preview`, `up`,
  `refresh`, `destroy`, `status`, `inventory import --plan`). Errors name it `<stdin>`, with line
  and column. Only one file per command can come from stdin. An owned site's `inventory:` file is
  then relative to the current directory.
- **Streams.** The output you asked for goes to stdout: text, or with `--format json` one JSON
  document (`up`, `refresh` and `destroy` write JSON lines). Problems, progress and notes go to
  stderr, so `capacity validate plan.yaml --format json > result.json` holds JSON and nothing else.
  Every command takes `--format json`, and with it an error is JSON on stdout too:
  `{"ok": false, "error": {"kind": "stack-not-found", "message": "...", "exit_code": 1}}` (kinds:
  `error`, `engine`, `stack-locked`, `stack-not-found`, `lease-guard-refusal`, `inventory`,
  `inventory-shortage`, ...; an invalid plan keeps `{"valid": false, "errors": [...]}`).
- **Exit codes.** 0 success; 1 an invalid plan or a failed operation; 2 a wrong command line;
  130 cancelled with Ctrl-C (the state is saved). `preview --detailed-exitcode`: 0 no changes,
  2 changes pending, 1 error.
- **Colour.** Tables and live progress use colour and escape codes only on a terminal, and never
  when `NO_COLOR` is set to anything but the empty string.
- **Shell completion.** `capacity --install-completion` adds completion of commands, options and
  choices to your shell (bash, zsh, fish, PowerShell); `capacity --show-completion` prints the
  script instead. Completion never imports Pulumi or a cloud SDK. It offers the stacks of a local
  backend after `--stack` and `stacks rm`, and the owned sites with an inventory after `--site`.
- **Errors without a traceback.** A bug shows one line and asks to rerun with `CAPACITY_DEBUG=1`,
  which shows the traceback.

## Environment

| Variable | Effect |
| --- | --- |
| `CAPACITY_STATE_DIR` | Where local state lives (default `.capacity/` in the current directory): docs/state.md. |
| `PULUMI_BACKEND_URL` | The state backend when `--backend` is not given: docs/state.md. |
| `PULUMI_CONFIG_PASSPHRASE`, `PULUMI_CONFIG_PASSPHRASE_FILE` | The passphrase that encrypts secrets in the state (default: one generated into the state dir). |
| `CAPACITY_CACHE` | Where `capacity engine setup` keeps the Pulumi CLI (default `~/.cache/capacity`). |
| `PULUMI_HOME` | Pulumi's own home for plugins (default: one in the cache above). |
| `NO_COLOR` | No colour and no escape codes. |
| `CAPACITY_DEBUG` | Show the traceback of an internal error. |

Stacks, backends, state and the inventory: [docs/state.md](state.md). Plan files:
[docs/plan-format.md](plan-format.md). Inventory and catalog files: [docs/file-formats.md](file-formats.md).
"""


def render() -> str:
    """The whole page, as `python -m capacity.cli.reference` prints it."""
    import typer.main

    from capacity.cli.main import app

    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="capacity", **root.context_settings)
    return INTRO + "".join(_section(command, sub) for command, sub in [(root, ctx), *_walk(root, ctx)])


def _walk(group, ctx):
    """Every visible command under `group`, depth first, in the order of --help."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = command.context_class(command, info_name=name, parent=ctx)
        yield command, sub
        if hasattr(command, "list_commands"):
            yield from _walk(command, sub)


def _section(command, ctx) -> str:
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    lines = ["", f"## {ctx.command_path}", "", f"    {usage}", "", _help(command), ""]
    for kind, title in (("argument", "Arguments"), ("option", "Options")):
        records = [param.get_help_record(ctx) for param in command.get_params(ctx)
                   if param.param_type_name == kind and param.name != "help" and not getattr(param, "hidden", False)]
        records = [r for r in records if r is not None]
        if records:
            lines += [f"{title}:", ""]
            lines += [f"- `{names}`" + (f": {_flat(text)}" if text else "") for names, text in records]
            lines.append("")
    if hasattr(command, "list_commands"):
        subs = [(name, command.get_command(ctx, name)) for name in command.list_commands(ctx)]
        lines += ["Commands:", ""]
        lines += [f"- [`{ctx.command_path} {name}`](#{_anchor(ctx)}-{name}): {_summary(sub)}"
                  for name, sub in subs if sub is not None and not sub.hidden]
        lines.append("")
    return "\n".join(lines)


def _help(command) -> str:
    """The command's help, its paragraphs each on one line."""
    text = inspect.cleandoc(command.help or "")
    return "\n\n".join(_flat(paragraph) for paragraph in text.split("\n\n"))


def _summary(command) -> str:
    first = _help(command).split("\n\n", 1)[0]
    return first.split(". ", 1)[0].rstrip(".") + "."


def _flat(text: str) -> str:
    return " ".join(text.split())


def _anchor(ctx) -> str:
    """GitHub's anchor for a `## capacity inventory import` heading."""
    return ctx.command_path.replace(" ", "-")


if __name__ == "__main__":
    sys.stdout.write(render())
