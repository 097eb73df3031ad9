"""A full or read-only disk met anywhere under a command is said plainly (exit 1), never as a bug."""

from __future__ import annotations

import errno
import os

import pytest
import typer
from typer.testing import CliRunner

from capacity.cli.output import Handled


def _app_raising(code: int) -> typer.Typer:
    app = typer.Typer(cls=Handled)

    @app.command()
    def write() -> None:
        raise OSError(code, os.strerror(code), "/state/.capacity/workspace/Pulumi.yaml")

    @app.command()
    def other() -> None:
        pass

    return app


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS])
def test_a_disk_fault_is_an_error_with_the_file_and_the_fix(code):
    result = CliRunner().invoke(_app_raising(code), ["write"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert os.strerror(code).lower() in result.output
    assert "/state/.capacity/workspace/Pulumi.yaml" in result.output and "To fix:" in result.output


def test_any_other_os_error_is_not_hidden():
    result = CliRunner().invoke(_app_raising(errno.EIO), ["write"])
    assert isinstance(result.exception, OSError) and result.exception.errno == errno.EIO
