"""Faults of the state, through `capacity` and the real engine: debris of a killed write, a state
cut short or of the wrong shape, an unknown --stack, a symbolic link loop, a read-only directory, a
full disk, a lost passphrase file. Each is said as what it is, with what to do."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.integration.engine.conftest import edit_plan

STACKS = Path("pulumi") / ".pulumi" / "stacks" / "capacity"


def test_an_empty_attrs_file_left_by_a_kill_is_repaired(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    attrs = state / STACKS / "quickstart.json.attrs"
    attrs.write_bytes(b"")  # what a kill in the middle of writing the state leaves
    (state / STACKS / "quickstart.json.123456.tmp").write_bytes(b'{"version": 3, "checkp')
    preview = capacity("preview", quickstart, "--detailed-exitcode")
    assert "Repaired the state of stack 'quickstart'" in preview.output and "quickstart.json.attrs" in preview.output
    assert not attrs.exists() and not list((state / STACKS).glob("*.tmp"))
    assert "no changes" in preview.output


def test_a_state_cut_short_names_the_engines_backup(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    path = state / STACKS / "quickstart.json"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    for verb in ("status", "preview", "up"):
        result = capacity(verb, quickstart, *(["--yes"] if verb == "up" else []), expect=1)
        assert "cut short" in result.output and "quickstart.json.bak" in result.output and "To fix" in result.output


def test_a_state_of_the_wrong_shape_is_not_not_deployed(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    (state / STACKS / "quickstart.json").write_text(json.dumps({"checkpoint": {"latest": {"resources": "x"}}}))
    result = capacity("status", quickstart, expect=1)
    assert "not a Pulumi state of the shape expected" in result.output and "not deployed" not in result.output


def test_an_unknown_stack_exits_1_listing_the_stacks(capacity, quickstart):
    capacity("up", quickstart, "--yes")
    for verb in ("status", "destroy"):
        result = capacity(verb, "--stack", "quickstrat", "--yes" if verb == "destroy" else "--format=text", expect=1)
        assert "No stack 'quickstrat'" in result.output and "quickstart" in result.output.split("there are:")[1]


def test_a_symbolic_link_loop_is_said_as_such(capacity, quickstart, state, monkeypatch):
    loop = state.parent / "loop"
    os.symlink(loop.with_name("loop-b"), loop)
    os.symlink(loop, loop.with_name("loop-b"))
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(loop))
    for args in (("status", quickstart), ("up", quickstart, "--yes")):
        result = capacity(*args, expect=1)
        assert "loop of symbolic links" in result.output and str(loop) in result.output


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs of our own (root can mount one here); None where mounting is not possible."""
    where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_a_read_only_state_directory(capacity, quickstart, state, small_disk, monkeypatch):
    if small_disk is None:
        pytest.skip("mounting a file system is not possible here (and root ignores file modes)")
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(small_disk / ".capacity"))
    capacity("up", quickstart, "--yes")
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)]).returncode == 0
    result = capacity("up", quickstart, "--yes", expect=1)
    assert "read-only" in result.output and "This is a bug" not in result.output and "To fix" in result.output
    assert json.loads(capacity("status", quickstart, "--format", "json").stdout)["deployed"]  # reading still works


def test_a_full_disk_says_so_plainly(capacity, quickstart, state, small_disk, monkeypatch):
    if small_disk is None:  # an injected ENOSPC where no file system can be mounted
        monkeypatch.setattr(os, "write", _no_space)
    else:
        monkeypatch.setenv("CAPACITY_STATE_DIR", str(small_disk / ".capacity"))
        _fill(small_disk)
    result = capacity("up", quickstart, "--yes", expect=1)
    assert "no space left on device" in result.output and "full" in result.output
    assert "restore from a backup" not in result.output and "nothing to restore" in result.output
    assert "no transaction is active" not in result.output


def test_a_disk_that_fills_during_up_says_so_plainly(capacity, quickstart, state, small_disk, monkeypatch):
    if small_disk is None:
        pytest.skip("mounting a file system is not possible here")
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(small_disk / ".capacity"))
    capacity("up", quickstart, "--yes")
    _fill(small_disk)
    os.truncate(small_disk / "filler", os.path.getsize(small_disk / "filler") - 8192)  # room for our check only
    edit_plan(quickstart, lambda data: data["clusters"]["train"].update(nodes=9))
    result = capacity("up", quickstart, "--yes", expect=1)
    # Which write meets the full disk first varies (the engine's or ours): each says so plainly.
    assert "no space left on device" in result.output and "nothing to restore" in result.output, result.output
    assert "Traceback" not in result.output and "This is a bug" not in result.output
    (small_disk / "filler").unlink()
    assert "1 updated" in capacity("up", quickstart, "--yes").output  # the rerun recovers


def _no_space(_fd, _data):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_lost_passphrase_file_is_said_as_such_and_not_replaced(capacity, quickstart, state, monkeypatch):
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    capacity("up", quickstart, "--yes")
    passphrase = state / "passphrase"
    assert passphrase.exists()
    passphrase.unlink()
    result = capacity("preview", quickstart, expect=1)
    assert f"passphrase file {passphrase} is missing" in result.output and "quickstart" in result.output
    assert not passphrase.exists()
