"""`capacity engine`: make the Pulumi engine ready (once per user) and show what is used.

Nothing here imports pulumi at import time; `setup --check` imports it when it runs.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from capacity.cli.output import Format, FormatOption, Handled, emit_json, say

app = typer.Typer(
    cls=Handled,
    name="engine",
    help="The Pulumi engine that runs plans: set it up once per user, and inspect it.",
    no_args_is_help=True,
)


@app.command()
def setup(
    check: Annotated[bool, typer.Option("--check/--no-check",
                                        help="Prove it works: up and destroy a probe resource in a scratch stack.")] = True,
    kubernetes: Annotated[bool, typer.Option("--kubernetes", help=(
        "Also build the Pulumi Kubernetes provider plugin (for clusters with `orchestrator: kubernetes`) "
        "from the Go module proxy, once per user (about 10 minutes)."))] = False,
    fmt: FormatOption = Format.text,
) -> None:
    """Find or install the Pulumi CLI pinned to the SDK (on PATH, cached, Pulumi's installer, or a Go build)."""
    from capacity.engine.pulumi_cli import ensure_pulumi

    started = time.monotonic()
    data: dict = {"ok": True}
    cli = ensure_pulumi(install=True, echo=say)
    data["cli"] = {"path": str(cli.pulumi), "version": cli.version, "source": cli.source}
    say(f"Pulumi CLI v{cli.version}: {cli.pulumi} ({_SOURCES.get(cli.source, cli.source)}).")
    if kubernetes:
        from capacity.engine.kubernetes_bins import PLUGIN, ensure_plugin

        data["kubernetes_plugin"] = str(ensure_plugin(echo=say) / PLUGIN)
        say(f"Pulumi Kubernetes provider: {data['kubernetes_plugin']}.")
    if check:
        from capacity.engine.probe import run_probe

        data["check_seconds"] = round(run_probe(cli, echo=say), 3)
        say(f"Engine check passed: a probe resource went up and was destroyed through the real engine "
            f"in {data['check_seconds']:.1f}s.")
    say(f"Engine ready ({time.monotonic() - started:.0f}s).")
    if fmt == Format.json:
        emit_json(data)


_SOURCES = {"path": "found on PATH", "cache": "from the per-user cache", "installer": "installed by Pulumi's installer",
            "go-build": "built from the Go module proxy"}


@app.command()
def info(fmt: FormatOption = Format.text) -> None:
    """Show the SDK and CLI versions, where the CLI is, and where state and secrets are kept."""
    from capacity.errors import EngineError
    from capacity.engine.pulumi_cli import find_pulumi, pulumi_home, sdk_version, version_dir
    from capacity.engine.backend import default_state_dir, resolve_backend

    try:
        cli = find_pulumi(echo=lambda _m: None)
    except EngineError:
        cli = None
    state = default_state_dir()
    backend = resolve_backend(None, state)
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ:
        secrets = "PULUMI_CONFIG_PASSPHRASE"
    elif "PULUMI_CONFIG_PASSPHRASE_FILE" in os.environ:
        secrets = f"PULUMI_CONFIG_PASSPHRASE_FILE ({os.environ['PULUMI_CONFIG_PASSPHRASE_FILE']})"
    elif backend.kind == "cloud":
        secrets = "Pulumi Cloud"
    else:
        secrets = f"generated passphrase in {state / 'passphrase'}" + ("" if (state / "passphrase").exists()
                                                                       else " (made on first use)")
    data = {
        "sdk_version": sdk_version(),
        "cli": None if cli is None else {"path": str(cli.pulumi), "version": cli.version, "source": cli.source,
                                         "bin_dir": str(cli.bin_dir)},
        "cache": str(version_dir()),
        "pulumi_home": str(pulumi_home()),
        "state_dir": str(state),
        "backend": backend.shown,
        "secrets": secrets,
        "python": sys.executable,
    }
    if fmt == Format.json:
        emit_json(data)
        return
    cli_text = (f"v{cli.version} at {cli.pulumi} ({_SOURCES.get(cli.source, cli.source)})" if cli
                else "not installed; run `capacity engine setup`")
    rows = [("Pulumi SDK", f"v{data['sdk_version']}"), ("Pulumi CLI", cli_text), ("CLI cache", data["cache"]),
            ("PULUMI_HOME", data["pulumi_home"]), ("State", data["state_dir"]), ("Backend", data["backend"]),
            ("Secrets", secrets), ("Python", data["python"])]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        sys.stdout.write(f"{key.ljust(width)}  {value}\n")
