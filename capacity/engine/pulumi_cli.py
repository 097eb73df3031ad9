"""Find, or make ready, the Pulumi CLI pinned by `PULUMI_CLI_VERSION`.

The Automation API runs our program in-process and drives the `pulumi` binary, so that binary
and the `pulumi-resource-pulumi-python` script (the host of our dynamic providers) are all we
need. `ensure_pulumi()` looks, in order:

1. on PATH: a `pulumi` whose `pulumi version` is `PULUMI_CLI_VERSION`;
2. in the per-user cache `${CAPACITY_CACHE:-${XDG_CACHE_HOME:-~/.cache}/capacity}/pulumi/v<ver>/bin`;
3. else installs into that cache, under a file lock so two processes never install at once:
   a. Pulumi's own installer (`PulumiCommand.install`), which needs get.pulumi.com;
   b. a build from the Go module `github.com/pulumi/pulumi/pkg/v3` at the same `v<ver>`, from a
      small wrapper module (pkg/v3's go.mod has replace directives, so `go install pkg@v`
      refuses it; the wrapper repeats its non-local replaces and requires sdk/v3 at the same
      version so minimal version selection does not pick an older one).

Every way that fails says why in one line; if all fail, `EngineError` names each of them.
This module imports nothing from pulumi at import time (only `importlib.metadata`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from capacity.engine.gobuild import (
    BuildFailed,
    Echo,
    cache_root,
    executable,
    file_lock,
    is_sumdb_failure,
    last_line,
    print_to_stderr,
    run_go,
)
from capacity.errors import EngineError

# The one place that names the Pulumi CLI we run: the newest whose Go module builds here, never
# older than the Python SDK in constraints.txt (moving both forward: docs/development.md).
PULUMI_CLI_VERSION = "3.276.0"

PKG_MODULE = "github.com/pulumi/pulumi/pkg/v3"
SDK_MODULE = "github.com/pulumi/pulumi/sdk/v3"
CLI_PACKAGE = f"{PKG_MODULE}/cmd/pulumi"
VERSION_SYMBOL = f"{SDK_MODULE}/go/common/version.Version"
DYNAMIC_PLUGIN = "pulumi-resource-pulumi-python"
INSTALLER_URL = "https://get.pulumi.com/install.sh"
INSTALLER_TIMEOUT = 300
GO_BUILD_TIMEOUT = 45 * 60

# Equivalent of the SDK's sdk/python/dist script, for when the Go module is not at hand.
_DYNAMIC_PLUGIN_SCRIPT = """#!/bin/sh
# Host of Pulumi Python dynamic providers (written by capacity; same as the SDK's dist script).
exec "${PULUMI_PYTHON_CMD:-python3}" -u -m pulumi.dynamic "$@"
"""

@dataclass(frozen=True)
class PulumiCli:
    """A usable Pulumi CLI: the directory to put first on PATH, the binary, its version."""

    bin_dir: Path
    pulumi: Path
    version: str
    source: str = "path"
    """Where it came from: path, cache, installer or go-build."""

    @property
    def root(self) -> Path:
        """What `PulumiCommand(root=...)` wants: the binary is `root/bin/pulumi`."""
        return self.pulumi.parent.parent


def sdk_version() -> str:
    """The installed Python SDK's version, e.g. '3.272.0'."""
    return metadata.version("pulumi")


def _as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def check_sdk_not_newer(cli_version: str = PULUMI_CLI_VERSION) -> None:
    """An SDK newer than the CLI may speak protocol the CLI does not know: refuse it plainly."""
    sdk = sdk_version()
    if _as_tuple(sdk) > _as_tuple(cli_version):
        raise EngineError(
            f"The installed Pulumi Python SDK v{sdk} is newer than the Pulumi CLI v{cli_version} that "
            "capacity runs.\nTo fix: install the tested versions (pip install -c constraints.txt ...), "
            "or raise PULUMI_CLI_VERSION as docs/development.md describes."
        )


def version_dir(version: str | None = None) -> Path:
    return cache_root() / "pulumi" / f"v{version or PULUMI_CLI_VERSION}"


def pulumi_home() -> Path:
    """PULUMI_HOME for our runs: the user's own if set, else one in our cache."""
    if os.environ.get("PULUMI_HOME"):
        return Path(os.environ["PULUMI_HOME"])
    return cache_root() / "pulumi" / "home"


def cli_version(pulumi: Path | str) -> str | None:
    """`pulumi version` without its leading v, or None if it does not run. Remembered per binary
    (path, size, mtime) in the cache, so a warm start does not pay for running it."""
    try:
        real = os.path.realpath(pulumi)
        st = os.stat(real)
    except OSError:
        return None
    key, stamp = real, [st.st_size, st.st_mtime_ns]
    memo_path = cache_root() / "pulumi" / "versions.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    if isinstance(memo, dict) and isinstance(memo.get(key), list) and memo[key][:2] == stamp:
        return memo[key][2]
    version = _run_version(real)
    if version is not None:
        memo = memo if isinstance(memo, dict) else {}
        memo[key] = [*stamp, version]
        try:
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo_path.with_name(f".versions.{os.getpid()}.json")
            tmp.write_text(json.dumps(memo))
            os.replace(tmp, memo_path)
        except OSError:
            pass
    return version


def _run_version(pulumi: str) -> str | None:
    env = dict(os.environ, PULUMI_SKIP_UPDATE_CHECK="true")
    try:
        out = subprocess.run(
            [str(pulumi), "version"], capture_output=True, text=True, timeout=60, env=env, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.strip().splitlines()[0].strip() if out.strip() else ""
    return text[1:] if text.startswith("v") else text or None


def engine_env(cli: PulumiCli) -> dict[str, str]:
    """Environment for every engine run: our CLI and plugin first on PATH, our Python for them."""
    from capacity.engine.kubernetes_bins import find_plugin_dir

    path_dirs = [str(cli.bin_dir)]
    if cli.pulumi.parent != cli.bin_dir:
        path_dirs.append(str(cli.pulumi.parent))
    kubernetes_plugin = find_plugin_dir()  # the Kubernetes provider, when built (capacity engine setup)
    if kubernetes_plugin is not None:
        path_dirs.append(str(kubernetes_plugin))
    path_dirs.append(os.environ.get("PATH", os.defpath))
    home = pulumi_home()
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.pathsep.join(path_dirs),
        "PULUMI_PYTHON_CMD": sys.executable,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_HOME": str(home),
    }


# --- the ways to get one ------------------------------------------------------------------


def _from_path(version: str, echo: Echo) -> PulumiCli | None:
    found = shutil.which("pulumi")
    if not found:
        return None
    pulumi = Path(found)
    have = cli_version(pulumi)
    if have != version:
        echo(f"note: the pulumi on PATH ({pulumi}) is v{have}, not v{version}; not using it.")
        return None
    if executable(pulumi.parent / DYNAMIC_PLUGIN) or shutil.which(DYNAMIC_PLUGIN):
        return PulumiCli(bin_dir=pulumi.parent, pulumi=pulumi, version=version, source="path")
    # Right CLI, but no host for dynamic providers: put the script in our cache, in front.
    bin_dir = version_dir(version) / "bin"
    _install_dynamic_plugin(bin_dir, version, shutil.which("go"), echo)
    return PulumiCli(bin_dir=bin_dir, pulumi=pulumi, version=version, source="path")


def _from_cache(version: str) -> PulumiCli | None:
    bin_dir = version_dir(version) / "bin"
    pulumi = bin_dir / "pulumi"
    if not executable(pulumi) or cli_version(pulumi) != version:
        return None
    return PulumiCli(bin_dir=bin_dir, pulumi=pulumi, version=version, source="cache")


def find_pulumi(version: str | None = None, echo: Echo = print_to_stderr) -> PulumiCli | None:
    """A ready CLI on PATH or in the cache, installing nothing (the plugin script aside)."""
    version = version or PULUMI_CLI_VERSION
    cli = _from_path(version, echo) or _from_cache(version)
    if cli is not None and not executable(cli.bin_dir / DYNAMIC_PLUGIN) and not shutil.which(DYNAMIC_PLUGIN):
        _install_dynamic_plugin(cli.bin_dir, version, shutil.which("go"), echo)
    return cli


def ensure_pulumi(install: bool = True, echo: Echo = print_to_stderr, version: str | None = None) -> PulumiCli:
    """The pinned Pulumi CLI, found or installed into the per-user cache; EngineError if impossible."""
    version = version or PULUMI_CLI_VERSION
    check_sdk_not_newer(version)
    cli = find_pulumi(version, echo)
    if cli is not None:
        return cli
    vdir = version_dir(version)
    if not install:
        raise EngineError(
            f"No Pulumi CLI v{version} on PATH or in {vdir / 'bin'}.\n"
            "To fix: run `capacity engine setup` (installs it there once per user)."
        )
    vdir.mkdir(parents=True, exist_ok=True)
    with file_lock(vdir / ".install.lock", echo):
        cli = _from_cache(version)  # another process may have finished while we waited
        if cli is not None:
            _install_dynamic_plugin(cli.bin_dir, version, shutil.which("go"), echo)
            return cli
        failures: list[str] = []
        for name, way in (("Pulumi's installer", _via_installer), ("Go build", _via_go_build)):
            started = time.monotonic()
            try:
                pulumi = way(version, vdir, echo)
            except BuildFailed as failed:
                echo(f"{name}: {failed}")
                failures.append(f"- {name}: {failed}")
                continue
            have = cli_version(pulumi)
            if have != version:
                failures.append(f"- {name}: produced {pulumi}, which reports v{have} instead of v{version}")
                echo(failures[-1][2:])
                continue
            bin_dir = pulumi.parent
            _install_dynamic_plugin(bin_dir, version, shutil.which("go"), echo)
            echo(f"Pulumi CLI v{version} ready in {bin_dir} ({name}, {time.monotonic() - started:.0f}s).")
            source = "installer" if way is _via_installer else "go-build"
            return PulumiCli(bin_dir=bin_dir, pulumi=pulumi, version=version, source=source)
    raise EngineError(
        f"Could not get the Pulumi CLI v{version} (PULUMI_CLI_VERSION). Tried:\n"
        f"- PATH: no `pulumi` reporting v{version}\n"
        f"- cache: nothing usable in {vdir / 'bin'}\n"
        + "\n".join(failures)
        + f"\nTo fix: install Pulumi v{version} on PATH (https://www.pulumi.com/docs/install/), "
        "or make the internet or a Go toolchain with the Go module proxy reachable, "
        "then run `capacity engine setup`."
    )


def _via_installer(version: str, vdir: Path, echo: Echo) -> Path:
    import urllib.error
    import urllib.request

    try:
        request = urllib.request.Request(INSTALLER_URL, method="HEAD")
        with urllib.request.urlopen(request, timeout=5):
            pass
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BuildFailed(f"cannot reach {INSTALLER_URL} ({reason})") from None
    echo(f"Installing Pulumi CLI v{version} with Pulumi's installer into {vdir} ...")
    code = (
        "import sys\n"
        "from semver import VersionInfo\n"
        "from pulumi.automation import PulumiCommand\n"
        "PulumiCommand.install(root=sys.argv[1], version=VersionInfo.parse(sys.argv[2]), skip_version_check=True)\n"
    )
    try:
        subprocess.run(
            [sys.executable, "-c", code, str(vdir), version],
            capture_output=True, text=True, timeout=INSTALLER_TIMEOUT, check=True,
            env=dict(os.environ, PULUMI_SKIP_UPDATE_CHECK="true"),
        )
    except subprocess.TimeoutExpired:
        raise BuildFailed(f"gave up after {INSTALLER_TIMEOUT}s") from None
    except subprocess.CalledProcessError as exc:
        raise BuildFailed(last_line(exc.stderr or exc.stdout)) from None
    pulumi = vdir / "bin" / "pulumi"
    if not executable(pulumi):
        raise BuildFailed(f"finished but left no {pulumi}")
    return pulumi


# --- the Go build -------------------------------------------------------------------------


def parse_go_mod(text: str) -> tuple[str | None, list[str]]:
    """The `go` directive and the non-local replace directives ('old [v] => new v') of a go.mod."""
    go_version = None
    replaces: list[str] = []
    in_block = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if in_block:
            if line == ")":
                in_block = False
                continue
            body = line
        elif line.startswith("replace"):
            body = line[len("replace"):].strip()
            if body == "(":
                in_block = True
                continue
        else:
            match = re.fullmatch(r"go\s+(\S+)", line)
            if match:
                go_version = match.group(1)
            continue
        if "=>" not in body:
            continue
        left, right = (part.strip() for part in body.split("=>", 1))
        target = right.split()
        if len(target) < 2 or target[0].startswith((".", "/")):
            continue  # a local directory replace (e.g. sdk/v3 => ../sdk): ignored in a dependency
        replaces.append(f"{left} => {right}")
    return go_version, replaces


def wrapper_go_mod(version: str, go_version: str | None, replaces: list[str]) -> str:
    lines = ["module capacity.local/pulumi-cli", ""]
    if go_version:
        lines += [f"go {go_version}", ""]
    lines += ["require (", f"\t{PKG_MODULE} v{version}", f"\t{SDK_MODULE} v{version}", ")", ""]
    lines += [f"replace {r}" for r in replaces]
    return "\n".join(lines) + "\n"


_TOOLS_GO = f"""//go:build tools

// Package tools pins the Pulumi CLI in this wrapper module (written by capacity).
package tools

import _ "{CLI_PACKAGE}"
"""


def _go_mod_download(go: str, module: str, version: str, cwd: Path, sumdb_off: bool) -> dict:
    proc = run_go(go, ["mod", "download", "-json", f"{module}@v{version}"], cwd, sumdb_off, False, 600)
    try:
        info = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        info = {}
    if proc.returncode != 0 or info.get("Error"):
        raise _GoStepFailed(info.get("Error") or proc.stderr)
    return info


class _GoStepFailed(Exception):
    pass


def _via_go_build(version: str, vdir: Path, echo: Echo) -> Path:
    go = shutil.which("go")
    if not go:
        raise BuildFailed("no `go` on PATH (needs the Go toolchain and a reachable Go module proxy)")
    build_dir = vdir / "build"
    build_dir.mkdir(parents=True, exist_ok=True)
    log = build_dir / "build.log"
    log.write_text("")
    sumdb_off = os.environ.get("GOSUMDB") == "off"

    def download(module: str) -> dict:
        nonlocal sumdb_off
        try:
            return _go_mod_download(go, module, version, build_dir.parent, sumdb_off)
        except _GoStepFailed as exc:
            if not sumdb_off and is_sumdb_failure(str(exc)):
                echo("note: the Go checksum database is unreachable; building with GOSUMDB=off "
                     "(modules still come from your GOPROXY).")
                sumdb_off = True
                try:
                    return _go_mod_download(go, module, version, build_dir.parent, sumdb_off)
                except _GoStepFailed as again:
                    exc = again
            raise BuildFailed(f"`go mod download {module}@v{version}` failed: {last_line(str(exc))}") from None

    echo(f"Building Pulumi CLI v{version} from the Go module {PKG_MODULE} "
         f"(once per user; a few minutes, more on a cold Go module cache) ...")
    pkg = download(PKG_MODULE)
    gomod_path = pkg.get("GoMod")
    if not gomod_path or not Path(gomod_path).is_file():
        raise BuildFailed(f"`go mod download` gave no go.mod for {PKG_MODULE}@v{version}")
    go_version, replaces = parse_go_mod(Path(gomod_path).read_text())
    (build_dir / "go.mod").write_text(wrapper_go_mod(version, go_version, replaces))
    (build_dir / "tools.go").write_text(_TOOLS_GO)
    (build_dir / "go.sum").unlink(missing_ok=True)

    bin_dir = vdir / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".pulumi-", dir=bin_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    args = ["build", "-trimpath", "-ldflags", f"-s -w -X {VERSION_SYMBOL}=v{version}", "-o", str(tmp), CLI_PACKAGE]
    try:
        proc = run_go(go, args, build_dir, sumdb_off, True, GO_BUILD_TIMEOUT, log)
        if proc.returncode != 0 and not sumdb_off and is_sumdb_failure(proc.stderr):
            echo("note: the Go checksum database is unreachable; building with GOSUMDB=off.")
            sumdb_off = True
            proc = run_go(go, args, build_dir, sumdb_off, True, GO_BUILD_TIMEOUT, log)
        if proc.returncode != 0:
            raise BuildFailed(f"`go build` failed: {last_line(proc.stderr)} (full log: {log})")
        os.chmod(tmp, 0o755)
        os.replace(tmp, bin_dir / "pulumi")
    finally:
        tmp.unlink(missing_ok=True)
    return bin_dir / "pulumi"


# --- the dynamic provider host and the lock ------------------------------------------------


def _install_dynamic_plugin(bin_dir: Path, version: str, go: str | None, echo: Echo) -> None:
    """Put `pulumi-resource-pulumi-python` in bin_dir: the SDK's own script, else an equivalent."""
    target = bin_dir / DYNAMIC_PLUGIN
    if executable(target):
        return
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = None
    if go:
        try:
            info = _go_mod_download(go, SDK_MODULE, version, bin_dir, os.environ.get("GOSUMDB") == "off")
            source = Path(info.get("Dir", "")) / "python" / "dist" / DYNAMIC_PLUGIN
            if source.is_file():
                script = source.read_bytes()
        except (_GoStepFailed, BuildFailed):
            script = None
    if script is None:
        script = _DYNAMIC_PLUGIN_SCRIPT.encode()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{DYNAMIC_PLUGIN}-", dir=bin_dir)
    with os.fdopen(fd, "wb") as fh:
        fh.write(script)
    os.chmod(tmp_name, 0o755)
    os.replace(tmp_name, target)


