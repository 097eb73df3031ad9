"""Helpers the CI workflow and the pre-commit hook run: which files are plans, which to deploy,
whether a deploy can run, which comment to update (docs/ci.md).

    python -m capacity.review.ci changed-plans --before SHA --output plans.json
        The plans to deploy: changed and not deleted since SHA, or all of them when SHA is not a
        commit here (a new branch, a force push, the daily schedule). A JSON list, for a job matrix.
    python -m capacity.review.ci review-plans --base SHA --output FILE
        The plans a pull request adds (A), changes (M) or deletes (D) against SHA, as NUL-separated
        STATUS and PATH pairs for the review script. A file that stops being a plan counts as deleted.
    python -m capacity.review.ci deploy-check PLAN
        Refuses a deploy that would lose its state: no PULUMI_BACKEND_URL, or owned sites with no
        CAPACITY_INVENTORY_URL.
    python -m capacity.review.ci validate FILE...
        The pre-commit hook: `capacity validate` on each FILE that is a plan; the others are skipped.
    python -m capacity.review.ci find-comment COMMENTS BODY
        The id of the comment to update with BODY, if there is one: the oldest by the workflow's
        bot whose first line is BODY's marker line. COMMENTS is `gh api --paginate` output.

A plan is a YAML file (under stacks/, at any depth, for CI) whose `kind` is `CapacityPlan`. Files
are read with the bounded YAML reader (capacity.plan.reader), never run; one that does not parse
still counts when it has a `kind: CapacityPlan` line (so its errors get reported), and so does one
too large to read. Plan paths come from pull requests: git runs with argument lists, names are read
NUL-separated, and a path with a character other than A-Z a-z 0-9 . _ / - is left out with a
warning that shows each such character as `?`. find-comment needs only the standard library (the
companion workflow runs it from a bare checkout); the rest needs PyYAML too.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

from capacity.errors import CapacityError
from capacity.plan import git

PLAN_PATHSPECS = ("stacks/*.yaml", "stacks/*.yml")  # git's `*` crosses `/`: any depth under stacks/
SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]+")
MARKER = re.compile(r"<!-- capacity-diff: [A-Za-z0-9._/-]+ -->")
KIND_LINE = re.compile(rb"""\bkind["']?[ \t]*:[ \t]*["']?CapacityPlan\b""")
BOT = "github-actions[bot]"
VALIDATE_TIMEOUT = 600
MAX_BYTES = 16 * 1024 * 1024  # capacity.plan.reader.MAX_BYTES, which this module imports only when needed


class CiError(CapacityError):
    """A step that cannot go on; the message says why."""


def shown(name: str) -> str:
    """A path safe to print in a log line: every character outside the safe set becomes `?`."""
    return re.sub(r"[^A-Za-z0-9._/-]", "?", name)


def is_plan(raw: bytes | None) -> bool:
    """YAML whose `kind` is CapacityPlan; or bytes that do not parse but say so on a `kind:` line;
    or None, a file too large to read."""
    return _plan_facts(raw)[0]


def _plan_facts(raw: bytes | None) -> tuple[bool, str | None]:
    """(a plan?, the catalog it names in `metadata.catalog`, relative to it)."""
    if raw is None:
        return True, None
    from capacity.errors import PlanError
    from capacity.plan.reader import parse_bytes

    try:
        data = parse_bytes(raw, "").data
    except PlanError:
        return KIND_LINE.search(raw) is not None, None
    if data.get("kind") != "CapacityPlan":  # parse_bytes gives a mapping or refuses
        return False, None
    catalog = data["metadata"].get("catalog") if isinstance(data.get("metadata"), dict) else None
    return True, catalog if isinstance(catalog, str) else None


def changed_plans(before: str | None, cwd: str | Path | None = None) -> tuple[list[str], list[str]]:
    """(plans at HEAD to deploy, paths left out as unsafe): those changed since `before`, or whose
    catalog changed; all of them when `before` is not a commit."""
    if not before or not git.is_commit(before, cwd):
        safe, unsafe = _split_safe(_names(["ls-files", "-z", "--", *PLAN_PATHSPECS], cwd))
        return [n for n in safe if is_plan(_blob("HEAD", n, cwd))], unsafe
    assert before is not None  # a commit, as _is_commit said
    diff = ["diff", "--name-only", "--no-renames", "-z", before, "HEAD"]
    safe, unsafe = _split_safe(_names([*diff, "--diff-filter=d", "--", *PLAN_PATHSPECS], cwd))
    plans = {n for n in safe if is_plan(_blob("HEAD", n, cwd))}
    plans |= _naming(set(_names(diff, cwd)), cwd)
    return sorted(plans), unsafe


def review_plans(base: str, cwd: str | Path | None = None) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """([(A|M|D, plan)], unsafe paths, YAML files that are no plan on either side and no plan's
    catalog) from `base` to HEAD. A plan whose catalog changed counts as changed."""
    if not git.is_commit(base, cwd):
        raise CiError(f"the base {shown(base or '(empty)')!r} is not a commit of this repository.")
    diff = ["diff", "--name-status", "--no-renames", "-z", base, "HEAD"]
    fields = _names([*diff, "--", *PLAN_PATHSPECS], cwd)
    changes = list(zip(fields[0::2], fields[1::2]))
    safe, unsafe = _split_safe([name for _, name in changes])
    every_change = set(_names(diff, cwd)[1::2])
    catalogs = _catalogs("HEAD", cwd)
    plans, others = {}, []
    for status, name in changes:
        if name not in safe:
            continue
        at_head = status != "D" and is_plan(_blob("HEAD", name, cwd))
        at_base = status != "A" and is_plan(_blob(base, name, cwd))
        if at_head or at_base:
            plans[name] = ("M" if at_base else "A") if at_head else "D"
        elif name not in catalogs:
            others.append(name)
    for name in sorted(_naming(every_change, cwd, catalogs) - set(plans)):
        plans[name] = "M" if is_plan(_blob(base, name, cwd)) else "A"
    return [(status, name) for name, status in sorted(plans.items())], unsafe, others


def _catalogs(rev: str, cwd: str | Path | None) -> dict[str, set[str]]:
    """{catalog path: the plans under stacks/ at `rev` that name it}."""
    named: dict[str, set[str]] = {}
    for name in _split_safe(_names(["ls-tree", "-r", "-z", "--name-only", rev, "--", "stacks"], cwd))[0]:
        if not name.endswith((".yaml", ".yml")):
            continue
        plan, catalog = _plan_facts(_blob(rev, name, cwd))
        if plan and catalog:
            named.setdefault(posixpath.normpath(posixpath.join(posixpath.dirname(name), catalog)), set()).add(name)
    return named


def _naming(files: set[str], cwd: str | Path | None, catalogs: dict[str, set[str]] | None = None) -> set[str]:
    """The plans at HEAD whose catalog is one of `files`."""
    catalogs = _catalogs("HEAD", cwd) if catalogs is None else catalogs
    return {plan for file in files & set(catalogs) for plan in catalogs[file]}


def deploy_problems(plan: str | Path, env: Mapping[str, str]) -> list[str]:
    """Why `capacity up PLAN` must not run in CI with this environment (empty: it may)."""
    problems = []
    if not env.get("PULUMI_BACKEND_URL"):
        problems.append("set the PULUMI_BACKEND_URL secret (s3://, azblob://, gs://, or https://api.pulumi.com with "
                        "PULUMI_ACCESS_TOKEN): a runner's local state is lost after the run")
    owned = owned_sites(plan)
    if owned and not env.get("CAPACITY_INVENTORY_URL"):
        problems.append(f"{shown(str(plan))} has owned sites ({', '.join(owned)}): set the CAPACITY_INVENTORY_URL "
                        "secret (postgresql://...): a runner's local inventory is lost after the run")
    return problems


def owned_sites(plan: str | Path) -> list[str]:
    from capacity.errors import PlanError
    from capacity.plan.reader import read_file

    try:
        sites = read_file(plan).data.get("sites")
    except PlanError as exc:
        raise CiError(f"cannot read the plan (`capacity validate` says why): {exc.problems[0]}") from None
    if not isinstance(sites, dict):
        return []
    return [str(name) for name, site in sites.items() if isinstance(site, dict) and site.get("provider") == "owned"]


def validate_plans(files: list[str]) -> int:
    """The pre-commit hook: `capacity validate` on each file that is a plan. 1 if any is invalid."""
    plans = [f for f in files if is_plan(_read_file(Path(f)))]
    capacity = shutil.which("capacity")
    if not plans:
        return 0
    if capacity is None:
        raise CiError("`capacity` is not on PATH. To fix: pip install capacity (the light core is enough).")
    status = 0
    for plan in plans:
        try:
            done = subprocess.run([str(capacity), "validate", plan], timeout=VALIDATE_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise CiError(f"`capacity validate {plan}` did not finish within {VALIDATE_TIMEOUT} s.") from None
        status = status or (1 if done.returncode else 0)
    return status


def _names(args: list[str], cwd: str | Path | None) -> list[str]:
    """The NUL-separated fields a git command prints (its -z output)."""
    return [n for n in _git(args, cwd).split("\0") if n]


def _split_safe(names: list[str]) -> tuple[list[str], list[str]]:
    return [n for n in names if SAFE_PATH.fullmatch(n)], [n for n in names if not SAFE_PATH.fullmatch(n)]


def _blob(rev: str, name: str, cwd: str | Path | None) -> bytes | None:
    """The committed bytes of `name` at `rev` (a safe path), or None when larger than MAX_BYTES;
    b"" when it is no file there (a submodule, say)."""
    found = git.lookup([f"{rev}:{name}"], cwd)[0]
    if found is None or found.kind != "blob":
        return b""
    if found.size > MAX_BYTES:
        return None
    return git.blob(found.id, cwd)


def _read_file(path: Path) -> bytes | None:
    """A file's bytes (None when too large); b"" for what is not a regular file."""
    if not path.is_file():
        return b""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise CiError(f"cannot read {shown(str(path))}: {exc.strerror}") from None
    return None if len(raw) > MAX_BYTES else raw


def _git(args: list[str], cwd: str | Path | None) -> str:
    return git.output(args, cwd).decode("utf-8", "replace")  # a name that is not UTF-8 is then unsafe, and left out


def read_pages(text: str) -> list[Any]:
    """The comments in `gh api --paginate` output: one JSON array per page, one after the other."""
    decoder, at = json.JSONDecoder(), 0
    comments: list[Any] = []
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


def find_comment(comments: list[Any], body: str, author: str = BOT) -> int | None:
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
    parser = argparse.ArgumentParser(prog="python -m capacity.review.ci", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plans = commands.add_parser("changed-plans", help="write the JSON list of plans to deploy")
    plans.add_argument("--before", default="", help="the commit before the push (empty: every plan)")
    plans.add_argument("--output", required=True, type=Path, help="file to write the JSON list to")
    review = commands.add_parser("review-plans", help="write the plans a pull request changes, NUL-separated")
    review.add_argument("--base", required=True, help="the commit the pull request is compared with")
    review.add_argument("--output", required=True, type=Path, help="file to write STATUS\\0PATH\\0 pairs to")
    check = commands.add_parser("deploy-check", help="refuse a deploy that would lose its state or inventory")
    check.add_argument("plan", help="the plan to deploy")
    hook = commands.add_parser("validate", help="`capacity validate` on each file that is a plan")
    hook.add_argument("files", nargs="*", help="files to look at (pre-commit passes the staged ones)")
    find = commands.add_parser("find-comment", help="print the id of the comment to update, if any")
    find.add_argument("comments", type=Path, help="`gh api --paginate .../comments` output")
    find.add_argument("body", type=Path, help="the new comment, starting with its marker line")
    find.add_argument("--author", default=BOT, help=f"login whose comments may be updated (default {BOT})")
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (CiError, git.GitError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1


def _warn_unsafe(names: list[str]) -> None:
    for name in names:
        print(f"::warning::skipping '{shown(name)}': plan paths use only A-Z a-z 0-9 . _ / -")


def _changed_plans(args: argparse.Namespace) -> int:
    safe, unsafe = changed_plans(args.before)
    _warn_unsafe(unsafe)
    args.output.write_text(json.dumps(safe, separators=(",", ":")) + "\n")
    print(f"Plans to deploy: {json.dumps(safe)}")
    return 0


def _review_plans(args: argparse.Namespace) -> int:
    plans, unsafe, others = review_plans(args.base)
    _warn_unsafe(unsafe)
    for name in others:
        print(f"::notice::{name} is not a capacity plan (no `kind: CapacityPlan`): not reviewed")
    args.output.write_bytes(b"".join(f"{status}\0{name}\0".encode() for status, name in plans))
    return 0


def _deploy_check(args: argparse.Namespace) -> int:
    problems = deploy_problems(args.plan, os.environ)
    for problem in problems:
        print(f"::error::{problem}")
    return 1 if problems else 0


def _validate(args: argparse.Namespace) -> int:
    return validate_plans(args.files)


def _find_comment(args: argparse.Namespace) -> int:
    found = find_comment(read_pages(_read(args.comments)), _read(args.body), args.author)
    if found is not None:
        print(found)
    return 0


_COMMANDS = {"changed-plans": _changed_plans, "review-plans": _review_plans, "deploy-check": _deploy_check,
             "validate": _validate, "find-comment": _find_comment}


if __name__ == "__main__":
    sys.exit(main())
