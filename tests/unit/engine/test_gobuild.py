"""The Go-build helpers both binary builders use (capacity/engine/gobuild.py)."""

from __future__ import annotations

import sys
import threading

import pytest

from capacity.engine import gobuild, kubernetes_bins, pulumi_cli


def test_last_line_is_the_reason_a_tool_gave():
    assert gobuild.last_line("go: downloading x\n\nerror: no such module\n  \n") == "error: no such module"
    assert gobuild.last_line("") == "(no output)"
    assert len(gobuild.last_line("x" * 1000)) == 300


def test_go_env_drops_a_workspace_and_forces_mod_only_for_builds(monkeypatch):
    monkeypatch.setenv("GOFLAGS", "-mod=vendor -v")
    build = gobuild.go_env("go", sumdb_off=True, for_build=True)
    assert build["GOWORK"] == "off" and build["GOFLAGS"] == "-v -mod=mod" and build["GOSUMDB"] == "off"
    download = gobuild.go_env("go", sumdb_off=False, for_build=False)
    assert download["GOFLAGS"] == "-v" and download.get("GOSUMDB") != "off"


def test_an_unreachable_checksum_database_is_told_from_a_mismatch():
    assert gobuild.is_sumdb_failure("verifying module: Get https://sum.golang.org/lookup: dial tcp: timeout")
    assert not gobuild.is_sumdb_failure("verifying x@v1: checksum mismatch\nSECURITY ERROR")


def test_run_go_that_cannot_start_is_a_build_failure(tmp_path):
    with pytest.raises(gobuild.BuildFailed, match="cannot run"):
        gobuild.run_go(str(tmp_path / "no-go"), ["version"], tmp_path, False, False, 5)


def test_run_go_appends_stderr_to_the_log(tmp_path):
    fake = tmp_path / "go"
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stderr.write('said on stderr')\nsys.exit(3)\n")
    fake.chmod(0o755)
    log = tmp_path / "build.log"
    proc = gobuild.run_go(str(fake), ["build"], tmp_path, False, True, 30, log)
    assert proc.returncode == 3 and proc.stderr == "said on stderr"
    assert "$ go build\nsaid on stderr" in log.read_text()


def test_file_lock_makes_a_second_holder_wait_and_says_who_holds_it(tmp_path):
    lock = tmp_path / ".build.lock"
    said: list[str] = []
    order: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def first() -> None:
        with gobuild.file_lock(lock, lambda _m: None):
            order.append("first in")
            inside.set()
            release.wait(30)
            order.append("first out")

    holder = threading.Thread(target=first)
    holder.start()
    inside.wait(30)

    def told(message: str) -> None:  # told to wait: only now may the first holder let go
        said.append(message)
        release.set()

    with gobuild.file_lock(lock, told, "building the Kubernetes binaries"):
        order.append("second in")
    holder.join()
    assert order == ["first in", "first out", "second in"]
    assert said and "which is building the Kubernetes binaries into" in said[0] and "capacity pid" in said[0]


def test_neither_builder_reaches_into_the_other():
    """The two builders share gobuild's public names, not each other's private ones."""
    import inspect

    assert "pulumi_cli" not in inspect.getsource(kubernetes_bins).split('"""', 2)[2]
    assert pulumi_cli.file_lock is gobuild.file_lock is kubernetes_bins.file_lock
