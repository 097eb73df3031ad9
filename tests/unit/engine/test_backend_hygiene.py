"""A backend URL's credentials never land in a file or a directory name; a backend's identity is
its directory's id or its credential-free URL; the state dir keeps itself out of git."""

from __future__ import annotations

from pathlib import Path

from capacity.engine.identity import backend_identity, clean_url
from capacity.engine.backend import resolve_backend, workspace_dir
from capacity.state import made_state_dir

SECRET_URL = "s3://akiakey:topsecret@minio.internal:9000/bucket?region=us-east-1"


def test_no_credential_in_the_workspace_directory_name(tmp_path):
    folder = workspace_dir(resolve_backend(SECRET_URL, tmp_path), tmp_path)
    assert "topsecret" not in str(folder) and "akiakey" not in str(folder)
    assert folder.name.startswith("s3-minio-internal-9000-")


def test_a_workspace_an_older_capacity_named_after_the_credentials_is_kept(tmp_path):
    backend = resolve_backend(SECRET_URL, tmp_path)
    new = workspace_dir(backend, tmp_path)
    old = tmp_path / "workspaces" / f"s3-akiakey-topsecret-minio-internal-9000-{new.name.rsplit('-', 1)[1]}"
    old.mkdir(parents=True)
    (old / "Pulumi.prod.yaml").write_text("encryptionsalt: v1:abc\n")
    assert workspace_dir(backend, tmp_path) == new and (new / "Pulumi.prod.yaml").is_file() and not old.exists()


def test_identity_of_a_url_backend_ignores_credentials_and_query():
    one = backend_identity(SECRET_URL, None)
    two = backend_identity("s3://minio.internal:9000/bucket", None)
    assert one == two and one[1] == "s3://minio.internal:9000/bucket"
    assert backend_identity("s3://minio.internal:9000/other", None)[0] != one[0]
    assert clean_url("postgresql://u:p@[::1]:5432/db?sslmode=require") == "postgresql://[::1]:5432/db"


def test_identity_of_a_directory_backend_is_kept_in_it(tmp_path):
    first = backend_identity((tmp_path / "b").as_uri(), tmp_path / "b")
    assert first == backend_identity((tmp_path / "b").as_uri(), tmp_path / "b")
    assert first[0] != backend_identity((tmp_path / "c").as_uri(), tmp_path / "c")[0]
    (tmp_path / "b").rename(tmp_path / "moved")  # the id moves with the directory
    assert backend_identity((tmp_path / "moved").as_uri(), tmp_path / "moved")[0] == first[0]


def test_the_state_dir_is_owner_only_and_ignored_by_git(tmp_path):
    made = made_state_dir(tmp_path / "repo" / ".capacity")
    assert made.stat().st_mode & 0o777 == 0o700
    assert (made / ".gitignore").read_text().splitlines()[-1] == "*"
    existing = tmp_path / "mine"
    existing.mkdir()
    made_state_dir(existing)  # a directory the user made and named: left as it is
    assert not (existing / ".gitignore").exists()
    assert Path(made_state_dir(made)) == made


def test_the_engines_temporary_directory_is_private_and_a_dead_runs_is_removed(tmp_path):
    import subprocess

    from capacity.deploy.scratch import private_tmp

    gone = subprocess.Popen(["true"])
    gone.wait()
    left = tmp_path / "tmp" / f"run-{gone.pid}"
    left.mkdir(parents=True)
    (left / "kubeconfig1234").write_text("token: secret\n")
    mine = private_tmp(tmp_path)
    assert mine.stat().st_mode & 0o777 == 0o700 and mine.is_dir()
    assert not left.exists() and private_tmp(tmp_path) == mine
