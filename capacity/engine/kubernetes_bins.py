"""Find, or build once per user, the Kubernetes binaries that capacity runs.

- `pulumi-resource-kubernetes`: the Pulumi Kubernetes provider plugin that `capacity up` uses
  against a cluster with `orchestrator: kubernetes`. The engine finds it on PATH (engine_env).
- `etcd`, `kube-apiserver`, `kube-controller-manager`: a real, local API server for the tests and
  the benchmark (tests/integration/tenancy), started on 127.0.0.1 only.
- Kueue's CRDs (ResourceFlavor, ClusterQueue, LocalQueue), from the `sigs.k8s.io/kueue` module.

Everything comes from the Go module proxy and is built into the per-user cache
`${CAPACITY_CACHE:-~/.cache/capacity}/kubernetes/<version>/bin`, under a file lock so two
processes never build at once; a binary already there is reused. `python -m
capacity.engine.kubernetes_bins` builds what is missing and prints where it is.
The facts behind the wrapper modules: /work/shared/kubernetes.md (and docs/tenancy.md).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from capacity.errors import EngineError
from capacity.engine.gobuild import (
    BuildFailed,
    Echo,
    cache_root,
    executable,
    file_lock,
    last_line,
    print_to_stderr,
    run_go,
)

# The Pulumi Kubernetes provider: the proxy serves the provider module only as a pseudo-version,
# the commit the Python package `pulumi-kubernetes` 4.25.0 was released from.
PROVIDER_VERSION = "4.25.0"
PROVIDER_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4"
PROVIDER_PSEUDO_VERSION = "v4.0.0-20260115033456-f47bc2d6f199"
PROVIDER_CMD = "cmd/pulumi-resource-kubernetes"
PROVIDER_FILES = ("main.go", "generate.go", "schema.json", "terraform-mapping.json")
PLUGIN = "pulumi-resource-kubernetes"

KUBERNETES_VERSION = "1.37.2"
ETCD_VERSION = "3.7.0"
SERVER_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")

# Kueue is the cluster's own; these are the CRDs of the version we test the objects against.
KUEUE_VERSION = "0.17.0"
KUEUE_CRDS = ("resourceflavors", "clusterqueues", "localqueues")

GO_TIMEOUT = 60 * 60

# The staging modules that k8s.io/kubernetes requires at v0.0.0 (its go.mod replaces them by
# local directories, which a dependency cannot use): each points to k8s.io/<name> v0.<minor>.<patch>.
STAGING_MODULES = (
    "api", "apiextensions-apiserver", "apimachinery", "apiserver", "cli-runtime", "client-go",
    "cloud-provider", "cluster-bootstrap", "code-generator", "component-base", "component-helpers",
    "controller-manager", "cri-api", "cri-client", "cri-streaming", "csi-translation-lib",
    "dynamic-resource-allocation", "endpointslice", "externaljwt", "kms", "kube-aggregator",
    "kube-controller-manager", "kube-proxy", "kube-scheduler", "kubectl", "kubelet", "metrics",
    "mount-utils", "pod-security-admission", "sample-apiserver", "streaming",
)


@dataclass(frozen=True)
class KubernetesBins:
    """Where the built binaries and CRDs are."""

    plugin_dir: Path
    server_dir: Path
    kueue_crds: tuple[Path, ...]

    def server(self, name: str) -> Path:
        return self.server_dir / name


def kubernetes_dir() -> Path:
    return cache_root() / "kubernetes"


def plugin_dir() -> Path:
    return kubernetes_dir() / f"pulumi-kubernetes-v{PROVIDER_VERSION}" / "bin"


def server_dir() -> Path:
    return kubernetes_dir() / f"v{KUBERNETES_VERSION}" / "bin"


def kueue_dir() -> Path:
    return kubernetes_dir() / f"kueue-v{KUEUE_VERSION}" / "crds"


def find_plugin_dir() -> Path | None:
    """The cached plugin's directory, for the engine's PATH; None if it is not built."""
    found = plugin_dir()
    return found if executable(found / PLUGIN) else None


def find_kubernetes_bins() -> KubernetesBins | None:
    """Everything, if it is all in the cache; building nothing."""
    crds = tuple(kueue_dir() / f"kueue.x-k8s.io_{name}.yaml" for name in KUEUE_CRDS)
    ready = (
        find_plugin_dir() is not None
        and all(executable(server_dir() / name) for name in SERVER_BINARIES)
        and all(crd.is_file() for crd in crds)
    )
    return KubernetesBins(plugin_dir(), server_dir(), crds) if ready else None


def ensure_plugin(echo: Echo = print_to_stderr) -> Path:
    """The provider plugin's directory (what `capacity up` needs for Kubernetes clusters)."""
    _ensure(_STEPS[-1:], echo)
    return plugin_dir()


def ensure_kubernetes_bins(echo: Echo = print_to_stderr) -> KubernetesBins:
    """All of it (the plugin, a local API server, Kueue's CRDs: what the tests run), reused from
    the cache or built into it; EngineError saying why if impossible."""
    _ensure(_STEPS, echo)
    bins = find_kubernetes_bins()
    if bins is None:  # pragma: no cover - every step checks its own result
        raise EngineError(f"The Kubernetes binaries are not complete in {kubernetes_dir()}.")
    return bins


def _ensure(steps: tuple, echo: Echo) -> None:
    go = shutil.which("go")
    kubernetes_dir().mkdir(parents=True, exist_ok=True)
    with file_lock(kubernetes_dir() / ".build.lock", echo, "building the Kubernetes binaries"):
        for what, ready, build in steps:
            if ready():
                continue
            if not go:
                raise EngineError(
                    f"Cannot build {what}: no `go` on PATH.\n"
                    "To fix: install the Go toolchain (1.26 or newer) with the Go module proxy reachable."
                )
            started = time.monotonic()
            echo(f"Building {what} from the Go module proxy (once per user) ...")
            try:
                build(go, echo)
            except BuildFailed as failed:
                raise EngineError(f"Could not build {what}: {failed}\nTo fix: see the log named above, "
                                  "make the Go module proxy reachable and run this again.") from None
            echo(f"{what} ready ({time.monotonic() - started:.0f}s).")


# --- steps -------------------------------------------------------------------------------


def _servers_ready() -> bool:
    return all(executable(server_dir() / name) for name in SERVER_BINARIES)


def _kueue_ready() -> bool:
    return all((kueue_dir() / f"kueue.x-k8s.io_{name}.yaml").is_file() for name in KUEUE_CRDS)


def _go_checked(go: str, args: list[str], cwd: Path, log: Path, extra_env: dict[str, str] | None = None) -> str:
    proc = run_go(go, args, cwd, os.environ.get("GOSUMDB") == "off", args[0] == "build", GO_TIMEOUT, log, extra_env)
    if proc.returncode != 0:
        raise BuildFailed(f"`go {' '.join(args[:2])}` failed: {last_line(proc.stderr)} (full log: {log})")
    return proc.stdout


def _module_dir(go: str, module: str, version: str, cwd: Path, log: Path) -> Path:
    out = _go_checked(go, ["mod", "download", "-json", f"{module}@{version}"], cwd, log)
    info = json.loads(out or "{}")
    if not info.get("Dir"):
        raise BuildFailed(f"`go mod download {module}@{version}` gave no directory")
    return Path(info["Dir"])


def _build_dir(name: str) -> tuple[Path, Path]:
    build = kubernetes_dir() / "build" / name
    build.mkdir(parents=True, exist_ok=True)
    log = build / "build.log"
    log.write_text("")
    return build, log


def _install(go: str, args: list[str], cwd: Path, log: Path, target: Path) -> None:
    """`go build ... -o <tmp> <pkg>`, then an atomic rename onto target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _go_checked(go, ["build", "-trimpath", *args[:-1], "-o", str(tmp), args[-1]], cwd, log)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _copy_kueue_crds(go: str, echo: Echo) -> None:
    build, log = _build_dir("kueue")
    source = _module_dir(go, "sigs.k8s.io/kueue", f"v{KUEUE_VERSION}", build, log)
    kueue_dir().mkdir(parents=True, exist_ok=True)
    for name in KUEUE_CRDS:
        crd = source / "config" / "components" / "crd" / "bases" / f"kueue.x-k8s.io_{name}.yaml"
        if not crd.is_file():
            raise BuildFailed(f"sigs.k8s.io/kueue@v{KUEUE_VERSION} has no {crd.name}")
        shutil.copyfile(crd, kueue_dir() / crd.name)


def servers_go_mod() -> str:
    minor_patch = KUBERNETES_VERSION.split(".", 1)[1]
    lines = [
        "module capacity.local/kubernetes-servers", "", "go 1.26.0", "", "godebug default=go1.26", "",
        "require (", f"\tk8s.io/kubernetes v{KUBERNETES_VERSION}", f"\tgo.etcd.io/etcd/server/v3 v{ETCD_VERSION}",
        ")", "",
    ]
    lines += [f"replace k8s.io/{name} => k8s.io/{name} v0.{minor_patch}" for name in STAGING_MODULES]
    return "\n".join(lines) + "\n"


_SERVERS_TOOLS_GO = """//go:build tools

// Package tools pins the Kubernetes commands in this wrapper module (written by capacity).
package tools

import (
\t_ "k8s.io/kubernetes/cmd/kube-apiserver"
\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
"""

_ETCD_MAIN_GO = """// etcd, as the etcd release builds it (written by capacity).
package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


def _build_servers(go: str, echo: Echo) -> None:
    build, log = _build_dir(f"v{KUBERNETES_VERSION}")
    (build / "go.mod").write_text(servers_go_mod())
    (build / "tools.go").write_text(_SERVERS_TOOLS_GO)
    (build / "etcd").mkdir(exist_ok=True)
    (build / "etcd" / "main.go").write_text(_ETCD_MAIN_GO)
    _go_checked(go, ["mod", "tidy"], build, log)
    major, minor, _ = KUBERNETES_VERSION.split(".")
    version_flags = (
        f"-s -w -X k8s.io/component-base/version.gitVersion=v{KUBERNETES_VERSION} "
        f"-X k8s.io/component-base/version.gitMajor={major} -X k8s.io/component-base/version.gitMinor={minor}"
    )
    _install(go, ["-ldflags", "-s -w", "./etcd"], build, log, server_dir() / "etcd")
    for name in ("kube-apiserver", "kube-controller-manager"):
        echo(f"  building {name} ...")
        _install(go, ["-ldflags", version_flags, f"k8s.io/kubernetes/cmd/{name}"], build, log, server_dir() / name)


def plugin_go_mod() -> str:
    return (
        "module capacity.local/pulumi-kubernetes\n\ngo 1.26.0\n\n"
        f"require {PROVIDER_MODULE} {PROVIDER_PSEUDO_VERSION}\n"
    )


def _build_plugin(go: str, echo: Echo) -> None:
    build, log = _build_dir(f"pulumi-kubernetes-v{PROVIDER_VERSION}")
    source = _module_dir(go, PROVIDER_MODULE, PROVIDER_PSEUDO_VERSION, build.parent, log)
    cmd = build / PROVIDER_CMD
    cmd.mkdir(parents=True, exist_ok=True)
    for name in PROVIDER_FILES:
        shutil.copyfile(source / PROVIDER_CMD / name, cmd / name)
        os.chmod(cmd / name, 0o644)  # the module cache is read-only
    (build / "go.mod").write_text(plugin_go_mod())
    (build / "go.sum").unlink(missing_ok=True)
    _go_checked(go, ["mod", "tidy"], build, log)
    # The command embeds files generated from schema.json: make them, as the provider's Makefile does.
    echo("  generating the provider's embedded schema ...")
    _go_checked(go, ["run", "generate.go"], cmd, log, extra_env={"VERSION": PROVIDER_VERSION})
    echo(f"  building {PLUGIN} ...")
    flags = f"-s -w -X {PROVIDER_MODULE}/pkg/version.Version={PROVIDER_VERSION}"
    _install(go, ["-ldflags", flags, f"./{PROVIDER_CMD}"], build, log, plugin_dir() / PLUGIN)


_STEPS = (
    ("Kueue CRDs", _kueue_ready, _copy_kueue_crds),
    (f"etcd, kube-apiserver, kube-controller-manager v{KUBERNETES_VERSION}", _servers_ready, _build_servers),
    (f"{PLUGIN} v{PROVIDER_VERSION}", lambda: find_plugin_dir() is not None, _build_plugin),
)


def main() -> int:
    try:
        bins = ensure_kubernetes_bins()
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"plugin: {bins.plugin_dir / PLUGIN}")
    for name in SERVER_BINARIES:
        print(f"{name}: {bins.server(name)}")
    print(f"kueue CRDs: {kueue_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
