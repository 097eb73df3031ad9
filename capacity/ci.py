"""Helpers the CI workflow runs: which plans to deploy, which comment to update (docs/ci.md).

    python -m capacity.ci changed-plans --before SHA --output plans.json
        The plans to deploy: changed and not deleted since SHA, or all of them when SHA is not a
        commit here (a new branch, a force push). A JSON list, for a job matrix.
    python -m capacity.ci find-comment COMMENTS BODY
        The id of the comment to update with BODY, if there is one: the oldest by the workflow's
        bot whose first line is BODY's marker line. COMMENTS is `gh api --paginate` output.

Plan paths come from pull requests: git runs with argument lists, names are read NUL-separated,
and a path with a character other than A-Z a-z 0-9 . _ / - is left out with a warning that shows
each such character as `?`. Standard library only: the push job runs it from a checkout.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

PLAN_PATHSPECS = ("stacks/*.yaml", "stacks/*.yml")
SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]+")
MARKER = re.compile(r"<!-- capacity-diff: [A-Za-z0-9._/-]+ -->")
BOT = "github-actions[bot]"
GIT_TIMEOUT = 120


class CiError(Exception):
    """A step that cannot go on; the message says why."""


def shown(name: str) -> str:
    """A path safe to print in a log line: every character outside the safe set becomes `?`."""
    return re.sub(r"[^A-Za-z0-9._/-]", "?", name)


def changed_plans(before: str | None, cwd: str | Path | None = None) -> tuple[list[str], list[str]]:
    """(plans to deploy, paths left out as unsafe), in git's order."""
    if _is_commit(before, cwd):
        listing = ["diff", "--name-only", "--diff-filter=d", "--no-renames", "-z", before, "HEAD"]
    else:
        listing = ["ls-files", "-z"]
    names = [n for n in _git([*listing, "--", *PLAN_PATHSPECS], cwd).split("\0") if n]
    safe = [n for n in names if SAFE_PATH.fullmatch(n)]
    return safe, [n for n in names if not SAFE_PATH.fullmatch(n)]


def _is_commit(rev: str | None, cwd: str | Path | None) -> bool:
    if not rev or rev.startswith("-"):  # no option can come in as a revision
        return False
    return _run_git(["cat-file", "-e", f"{rev}^{{commit}}"], cwd).returncode == 0


def _run_git(args: list[str], cwd: str | Path | None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise CiError("git is not installed (or not on PATH).") from None
    except subprocess.TimeoutExpired:
        raise CiError(f"`git {args[0]}` did not answer within {GIT_TIMEOUT} s.") from None


def _git(args: list[str], cwd: str | Path | None) -> str:
    done = _run_git(args, cwd)
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit code {done.returncode}"]
        raise CiError(f"`git {args[0]}` failed: {reason[-1]}")
    return done.stdout.decode("utf-8", "replace")  # a name that is not UTF-8 is then unsafe, and left out


def read_pages(text: str) -> list:
    """The comments in `gh api --paginate` output: one JSON array per page, one after the other."""
    decoder, comments, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return comments
        try:
            page, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise CiError(f"the comments are not JSON: {exc}") from None
        if not isinstance(page, list):
            raise CiError("the comments are not JSON arrays (pages of `gh api --paginate`).")
        comments += page


def find_comment(comments: list, body: str, author: str = BOT) -> int | None:
    """Id of the oldest comment by `author` whose first line is `body`'s marker, else None."""
    marker = body.split("\n", 1)[0]
    if not MARKER.fullmatch(marker):
        raise CiError(f"the comment does not start with a marker line like "
                      f"'<!-- capacity-diff: stacks/prod.yaml -->': {shown(marker[:80])!r}")
    for comment in comments:
        if not isinstance(comment, dict) or not isinstance(comment.get("user"), dict):
            continue
        text = comment.get("body")
        if comment["user"].get("login") != author or not isinstance(text, str):
            continue
        if text.split("\n", 1)[0].rstrip("\r") == marker:
            return comment.get("id")
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CiError(f"cannot read {path}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m capacity.ci", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plans = commands.add_parser("changed-plans", help="write the JSON list of plans to deploy")
    plans.add_argument("--before", default="", help="the commit before the push (empty: every plan)")
    plans.add_argument("--output", required=True, type=Path, help="file to write the JSON list to")
    find = commands.add_parser("find-comment", help="print the id of the comment to update, if any")
    find.add_argument("comments", type=Path, help="`gh api --paginate .../comments` output")
    find.add_argument("body", type=Path, help="the new comment, starting with its marker line")
    find.add_argument("--author", default=BOT, help=f"login whose comments may be updated (default {BOT})")
    args = parser.parse_args(argv)
    try:
        if args.command == "changed-plans":
            safe, unsafe = changed_plans(args.before)
            for name in unsafe:
                print(f"::warning::skipping '{shown(name)}': plan paths use only A-Z a-z 0-9 . _ / -")
            args.output.write_text(json.dumps(safe, separators=(",", ":")) + "\n")
            print(f"Plans to deploy: {json.dumps(safe)}")
        else:
            found = find_comment(read_pages(_read(args.comments)), _read(args.body), args.author)
            if found is not None:
                print(found)
    except CiError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
