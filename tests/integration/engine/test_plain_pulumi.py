"""The root program of Pulumi.yaml under plain `pulumi` commands, as docs/pulumi.md walks a user
through them: `pulumi stack init`, `pulumi config set capacity:plan`, `pulumi up`, outputs,
`pulumi destroy` (refused while a lease is in force, unless CAPACITY_ALLOW_DESTROY=1 says it is meant).

The Python language host (`pulumi-language-python`) cannot be built here from the Go module
proxy, so the SDK's own language server hosts capacity/deploy/program.py in a process of its own,
as the Automation API does, and `pulumi` is given `--client`. Everything else is the real CLI:
it reads Pulumi.yaml, runs the engine and starts the dynamic provider host itself.

With a language host, the engine hands Pulumi.yaml's runtime options to that provider host as
PULUMI_RUNTIME_<OPTION> and starts it in the program's folder; `--client` replaces the runtime
options with its address, so the test hands the `virtualenv` option over as the engine would.
The host then finds the project's virtualenv through that option alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[3]

# Hosts capacity/deploy/program.py the way `pulumi up` runs it (by path), on a loopback port it prints.
_HOST = """
import runpy, sys
from concurrent import futures
import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import language_pb2_grpc

program = lambda: runpy.run_path(sys.argv[1], run_name="__main__")
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
sys.stdin.read()  # until the test closes stdin
server.stop(0)
"""


@pytest.fixture
def project(tmp_path, pulumi_cli):
    """A user's checkout: Pulumi.yaml, the program, the plans and the README's .venv."""
    work = tmp_path / "checkout"
    work.mkdir()
    (work / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    for name in ("__main__.py", "components", "capacity", "stacks"):
        (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(Path(sys.prefix))
    # No PULUMI_PYTHON_CMD and no venv on PATH: the dynamic provider host must get the venv from
    # Pulumi.yaml, or it runs a python3 that has no pulumi module.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CAPACITY_", "VIRTUAL_ENV"))}
    virtualenv = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]["options"]["virtualenv"]
    env.update(PULUMI_RUNTIME_VIRTUALENV=virtualenv)
    env.update(PATH=os.pathsep.join([str(pulumi_cli.bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
               PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}", PULUMI_CONFIG_PASSPHRASE="plain-pulumi",
               PULUMI_SKIP_UPDATE_CHECK="true", PULUMI_HOME=str(tmp_path / "home"))
    (tmp_path / "state").mkdir()
    return work, env


def _pulumi(project, *args, check=True):
    work, env = project
    done = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    if check and done.returncode != 0:
        pytest.fail(f"pulumi {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def _capacity(project, *args):
    work, env = project
    done = subprocess.run([str(Path(sys.executable).parent / "capacity"), *args], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _hosted(project):
    work, env = project
    host_env = dict(env, PATH=os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]]))
    host = subprocess.Popen([sys.executable, "-c", _HOST, str(work / "__main__.py")], cwd=work,
                            env=host_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = host.stdout.readline().strip()
    assert port.isdigit(), "the language server did not start"
    return host, f"--client=127.0.0.1:{port}"


def test_plain_pulumi_stack_init_config_up_outputs_destroy(project):
    work, _env = project
    system_python = subprocess.run(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "python3", "-c", "import pulumi"],
                                   capture_output=True)
    assert system_python.returncode != 0  # so the provider host can only work through `virtualenv`

    _pulumi(project, "stack", "init", "plain-quickstart", "--secrets-provider", "passphrase")
    _pulumi(project, "config", "set", "capacity:plan", "stacks/quickstart.yaml")
    host, client = _hosted(project)
    try:
        up = _pulumi(project, "up", "--yes", client)
        assert "site lab-1: imported 12 nodes" in up.stdout  # the program imported the plan's inventory itself
        outputs = json.loads(_pulumi(project, "stack", "output", "--json").stdout)
        assert outputs["plan"] == "quickstart"
        assert set(outputs["clusters"]) == {"train"} and set(outputs["leases"]) == {"acme-pilot", "globex-shared"}
        again = _pulumi(project, "preview", "--diff", client)
        assert "+ " not in again.stdout and "- " not in again.stdout.replace("--", "")
        shown = _capacity(project, "status", "--stack", "plain-quickstart", "--format", "json")
        assert json.loads(shown.stdout)["stack"] == "plain-quickstart" and "acme-pilot" in shown.stdout
        # `pulumi destroy` runs no program, so no lease guard: the lease pool's provider refuses
        refused = _pulumi(project, "destroy", "--yes", client, check=False)
        assert refused.returncode != 0
        said = refused.stdout + refused.stderr
        assert "refusing to release the capacity of lease 'acme-pilot'" in said and "capacity destroy" in said
        assert "acme-pilot-pool" in _pulumi(project, "stack", "export").stdout  # still held
        work, env = project
        project_on_purpose = (work, dict(env, CAPACITY_ALLOW_DESTROY="1"))
        _pulumi(project_on_purpose, "destroy", "--yes", client)
    finally:
        host.stdin.close()
        host.wait(timeout=30)
    assert json.loads(_pulumi(project, "stack", "export").stdout)["deployment"].get("resources", []) == []
    _pulumi(project, "stack", "rm", "--yes")


def test_a_missing_plan_is_said_by_the_program(project):
    _pulumi(project, "stack", "init", "dev")
    _pulumi(project, "config", "set", "capacity:plan", "stacks/nosuch.yaml")
    host, client = _hosted(project)
    try:
        up = _pulumi(project, "up", "--yes", client, check=False)
    finally:
        host.stdin.close()
        host.wait(timeout=30)
    assert up.returncode != 0
    said = up.stdout + up.stderr
    assert "cannot deploy the plan stacks/nosuch.yaml" in said and "no such file" in said
