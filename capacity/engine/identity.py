"""Which backend a stack lives in, as the inventory records its holders.

Two backends can each have a stack of the same name; the inventory must never take one for the
other. A backend's identity is
- for a file backend, a random id written once into the backend directory (`capacity-backend-id`):
  it moves with the directory, and every runner that shares the directory shares it;
- for any other backend (s3://, azblob://, gs://, Pulumi Cloud), a digest of its URL without
  credentials or query.
Its shown form is the URL without credentials (safe to print and to keep in the inventory).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ID_FILE = "capacity-backend-id"


def clean_url(url: str) -> str:
    """The URL without user, password or query: safe to print and to keep."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if _port(parts) else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _port(parts) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def backend_identity(url: str, local_dir: Path | None) -> tuple[str, str]:
    """(id, shown URL) of the backend at `url` (`local_dir`: its directory, for a file backend)."""
    shown = clean_url(url)
    if local_dir is None:
        return "url-" + hashlib.sha256(shown.encode()).hexdigest()[:16], shown
    return "dir-" + _directory_id(local_dir), shown


def _directory_id(folder: Path) -> str:
    path = folder / ID_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{ID_FILE}-{secrets.token_hex(4)}"
        tmp.write_text(secrets.token_hex(8) + "\n")
        try:
            os.link(tmp, path)  # whole or not at all; never over the id another runner just made
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()
