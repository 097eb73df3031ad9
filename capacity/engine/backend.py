"""Where stacks live and how this machine reaches them: the backend, its secrets, our workspace.

- Backend: `--backend URL`, else `PULUMI_BACKEND_URL`, else the local file backend in
  `<state dir>/pulumi` (the state dir is `capacity.state.state_dir()`: `$CAPACITY_STATE_DIR`, else
  `.capacity/` in the current directory). s3://, azblob://, gs:// and Pulumi Cloud work the same.
- Secrets: `PULUMI_CONFIG_PASSPHRASE` or `PULUMI_CONFIG_PASSPHRASE_FILE` if set; Pulumi Cloud uses
  its own; otherwise a passphrase generated once into `<state dir>/passphrase` (mode 0600), said
  once, and handed to Pulumi as a file (never on a command line, never printed).
- Pulumi's own workspace files (Pulumi.yaml, Pulumi.<stack>.yaml with the encryption salt) live in
  `<state dir>/workspaces/<backend>/`, never in the user's repository.

pulumi is imported inside functions only.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from capacity.engine import filestate, sdk_patches
from capacity.engine.pulumi_cli import Echo, PulumiCli, engine_env, print_to_stderr
from capacity.errors import EngineError
from capacity.state import state_dir
from capacity.words import shown_url

PROJECT = "capacity"


def default_state_dir() -> Path:
    return state_dir()


# --- backend and secrets ------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    url: str
    kind: str
    """local (a file:// directory), diy (s3://, azblob://, gs://, ...) or cloud (Pulumi Cloud)."""
    local_dir: Path | None = None

    @property
    def shown(self) -> str:
        """The URL without any credentials in it."""
        return shown_url(self.url)


def resolve_backend(flag: str | None = None, state_dir: Path | None = None) -> Backend:
    url = flag or os.environ.get("PULUMI_BACKEND_URL") or ""
    if not url:
        local = (state_dir or default_state_dir()) / "pulumi"
        return Backend(url=local.as_uri(), kind="local", local_dir=local)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        raw = url[len("file://"):]
        local = Path(os.path.expanduser(raw.split("?", 1)[0])).absolute()
        return Backend(url=local.as_uri(), kind="local", local_dir=local)
    if parsed.scheme in ("http", "https"):
        return Backend(url=url, kind="cloud")
    if parsed.scheme:
        return Backend(url=url, kind="diy")
    # A bare path: treat it as a local directory.
    local = Path(url).expanduser().absolute()
    return Backend(url=local.as_uri(), kind="local", local_dir=local)


def secrets_env(backend: Backend, state_dir: Path, echo: Echo = print_to_stderr) -> dict[str, str]:
    """What Pulumi needs to encrypt this stack's secrets; generates a passphrase once if needed."""
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ or "PULUMI_CONFIG_PASSPHRASE_FILE" in os.environ:
        return {}
    if backend.kind == "cloud":
        return {}
    path = state_dir / "passphrase"
    if not path.exists():
        encrypted = encrypted_stacks(backend, state_dir)
        if encrypted:
            raise EngineError(
                f"The secrets passphrase file {path} is missing, but stack{'s' if len(encrypted) > 1 else ''} "
                f"{', '.join(encrypted)} in {backend.shown} {'were' if len(encrypted) > 1 else 'was'} made with a "
                f"passphrase: a new one would not open {'them' if len(encrypted) > 1 else 'it'}.\n"
                f"To fix: put the file back (from your backup), or set PULUMI_CONFIG_PASSPHRASE or "
                f"PULUMI_CONFIG_PASSPHRASE_FILE to the passphrase those stacks were made with.")
        state_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it a moment ago
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32) + "\n")
            shared = "" if backend.kind == "local" else f" Everyone using {backend.shown} needs the same one."
            echo(f"Generated the secrets passphrase of this state in {path} (mode 0600). Keep it: "
                 f"without it the stacks' secrets cannot be decrypted. Set PULUMI_CONFIG_PASSPHRASE "
                 f"or PULUMI_CONFIG_PASSPHRASE_FILE to use your own.{shared}")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
    return {"PULUMI_CONFIG_PASSPHRASE_FILE": str(path)}


def local_stacks(backend: Backend) -> list[str]:
    """The stacks a local backend holds, from its state files (no Pulumi run); [] for any other."""
    if backend.local_dir is None:
        return []
    return sorted({p.name.split(".json")[0] for p in (backend.local_dir / ".pulumi" / "stacks" / PROJECT).glob("*.json*")
                   if p.name.endswith((".json", ".json.gz"))})


def encrypted_stacks(backend: Backend, state_dir: Path) -> list[str]:
    """Stacks this backend holds, as far as this machine can tell: the state files of a local
    backend, and the stack settings (with their encryption salt) our workspace keeps for any other."""
    names = set(local_stacks(backend))
    for settings in workspace_dir(backend, state_dir).glob("Pulumi.*.yaml"):
        try:
            if "encryptionsalt:" in settings.read_text():
                names.add(settings.name[len("Pulumi."):-len(".yaml")])
        except OSError:
            continue
    return sorted(names)


def workspace_dir(backend: Backend, state_dir: Path) -> Path:
    if backend.kind == "local" and backend.local_dir == state_dir / "pulumi":
        slug = "local"
    else:
        from capacity.engine.identity import clean_url

        digest = hashlib.sha256(backend.url.encode()).hexdigest()[:8]
        clean = urlparse(clean_url(backend.url))  # no credentials in a directory name
        slug = f"{re.sub(r'[^a-z0-9]+', '-', clean.scheme + '-' + (clean.netloc or 'x')).strip('-')}-{digest}"
        old = re.sub(r"[^a-z0-9]+", "-", urlparse(backend.url).scheme + "-" + (urlparse(backend.url).netloc or "x"))
        old_dir = state_dir / "workspaces" / f"{old.strip('-')}-{digest}"
        if old_dir.name != slug and old_dir.is_dir() and not (state_dir / "workspaces" / slug).exists():
            old_dir.rename(state_dir / "workspaces" / slug)  # made by an older capacity: keep its settings
    return state_dir / "workspaces" / slug


def run_env(backend: Backend, state_dir: Path, cli: PulumiCli, echo: Echo = print_to_stderr) -> dict[str, str]:
    """The environment of every engine run against `backend`."""
    env = engine_env(cli)
    if backend.kind == "cloud" and "PULUMI_HOME" not in os.environ:
        env.pop("PULUMI_HOME", None)  # keep the user's `pulumi login`
    env["PULUMI_BACKEND_URL"] = backend.url
    env["CAPACITY_STATE_DIR"] = str(state_dir)  # providers run elsewhere; same inventories
    env.update(secrets_env(backend, state_dir, echo))
    return env


WORKSPACE = "the stacks' workspace directory"


def make_workspace(backend: Backend, state_dir: Path, cli: PulumiCli, echo: Echo,
                   program: Callable[..., Any] | None):
    """Our LocalWorkspace for `backend` (its files in workspace_dir), running `program` if any."""
    from pulumi import automation as auto

    work_dir = workspace_dir(backend, state_dir)
    with filestate.faults_said(work_dir, WORKSPACE):
        if backend.local_dir is not None:
            backend.local_dir.mkdir(parents=True, exist_ok=True)
        work_dir.mkdir(parents=True, exist_ok=True)
    env = run_env(backend, state_dir, cli, echo)
    settings = auto.ProjectSettings(
        name=PROJECT, runtime="python",  # the backend comes from PULUMI_BACKEND_URL: no credentials in a file
        description="GPU capacity plans (written by capacity; do not edit)",
    )
    with filestate.faults_said(work_dir, WORKSPACE):  # it writes Pulumi.yaml: a full disk shows here first
        return auto.LocalWorkspace(
            work_dir=str(work_dir), pulumi_home=env.get("PULUMI_HOME"), program=program,
            env_vars=env, project_settings=settings, pulumi_command=sdk_patches.command(cli, echo),
        )
