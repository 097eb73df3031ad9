"""capacity/engine/backend.py and the one URL redactor (capacity/words.py)."""

from __future__ import annotations

from capacity.engine.backend import local_stacks, resolve_backend, workspace_dir
from capacity.inventory.db import shown_url as shown_database
from capacity.words import shown_url


def test_one_redactor_drops_user_and_password_and_a_database_query():
    assert shown_url("s3://key:secret@minio:9000/bucket?region=x") == "s3://minio:9000/bucket?region=x"
    assert shown_url("https://api.pulumi.com") == "https://api.pulumi.com"
    assert shown_url("file:///tmp/state") == "file:///tmp/state"
    assert shown_database("postgresql://me:pw@[::1]:5432/inv?sslpassword=pw") == "postgresql://[::1]:5432/inv"
    assert resolve_backend("s3://k:s@host/b").shown == "s3://host/b"


def test_backends_by_url(tmp_path):
    local = resolve_backend(None, tmp_path)
    assert local.kind == "local" and local.local_dir == tmp_path / "pulumi"
    assert workspace_dir(local, tmp_path) == tmp_path / "workspaces" / "local"
    assert resolve_backend("https://api.pulumi.com", tmp_path).kind == "cloud"
    diy = resolve_backend("gs://bucket", tmp_path)
    assert diy.kind == "diy" and workspace_dir(diy, tmp_path).name.startswith("gs-bucket-")
    assert resolve_backend(str(tmp_path / "here"), tmp_path).local_dir == tmp_path / "here"


def test_local_stacks_are_read_from_the_state_files(tmp_path):
    backend = resolve_backend(None, tmp_path)
    assert local_stacks(backend) == []
    stacks = tmp_path / "pulumi" / ".pulumi" / "stacks" / "capacity"
    stacks.mkdir(parents=True)
    for name in ("b.json", "a.json.gz", "a.json", "c.json.bak", "d.json.attrs"):
        (stacks / name).write_text("{}")
    assert local_stacks(backend) == ["a", "b"]
    assert local_stacks(resolve_backend("s3://bucket", tmp_path)) == []
