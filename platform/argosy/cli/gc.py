"""``argosy gc``: delete old runs and what nothing uses any more (`argosy.gc`).

What was (or, with ``--dry-run``, would be) deleted goes to stdout, as text or with ``--json``
as one JSON object; progress goes to stderr. Without ``--yes`` a terminal is asked to confirm
first, and anything else is refused before anything is deleted. Like ``argosy runs``, the
selection covers the current user's runs unless ``--owner`` or ``--all-owners`` says otherwise;
runs named with ``--run`` are found whoever owns them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

from argosy.cli.console import diagnostics, print_json, results
from argosy.cli.tags import AllOwnersOption, OwnerOption
from argosy.config import Settings
from argosy.dsl.step import parse_duration
from argosy.gc import (
    Collection,
    GcOptions,
    apply,
    open_repository,
    plan,
    run_ids,
    shares_its_store,
)
from argosy.gc import Progress as Tell
from argosy.metadata.pruning import RunSelection
from argosy.metadata.schemas import RunStatus
from argosy.metadata.writes import utcnow
from argosy.ownership import user_owner
from argosy.previews import human_bytes
from argosy.store import open_store

LISTED = 20
"""Runs listed of each kind (deleted, kept) in text; ``--json`` lists every one."""


def _duration(option: str, text: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(text))
    except ValueError as error:
        raise typer.BadParameter(f"{error} (or '7d', '2w')", param_hint=option) from None


def gc(
    older_than: Annotated[
        str | None,
        typer.Option(help="Only runs started longer ago than this: 30m, 12h, 7d, 2w."),
    ] = None,
    status: Annotated[
        list[RunStatus] | None,
        typer.Option(help="Only runs in this status (repeat for several; lost runs are failed)."),
    ] = None,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    keep_last: Annotated[
        int | None,
        typer.Option(min=0, help="Keep the newest N runs of each pipeline, whatever else matches."),
    ] = None,
    run: Annotated[
        list[str] | None,
        typer.Option("--run", help="Only this run (an id or a unique prefix; repeatable)."),
    ] = None,
    owner: OwnerOption = None,
    all_owners: AllOwnersOption = False,
    grace: Annotated[
        str,
        typer.Option(help="Never sweep blobs stored more recently than this, used or not."),
    ] = "1h",
    sweep_s3: Annotated[
        bool,
        typer.Option(
            "--sweep-s3",
            help="Sweep an S3 bucket against this machine's embedded metadata (only if no "
            "other metadata database records runs into the bucket).",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Delete runs (by age, status, pipeline, id), and the blobs, records and logs no run that
    stays uses. With no selection, delete no runs and sweep unused blobs only. Live runs, and
    runs a run that stays was resumed from, are never deleted."""
    if owner and all_owners:
        raise typer.BadParameter("give --owner or --all-owners, not both", param_hint="--owner")
    settings = Settings()
    age = None if older_than is None else _duration("--older-than", older_than)
    kept_for = _duration("--grace", grace)
    repository = open_repository(settings)
    store = open_store(settings)
    store.check()
    named = run_ids(repository, run or [])
    scope = None if all_owners or (named and not owner) else owner or user_owner(settings.user)
    selection = RunSelection(
        created_before=None if age is None else utcnow() - age,
        statuses=frozenset(status or ()),
        pipeline=pipeline,
        keep_last=keep_last,
        run_ids=named,
        owner=scope,
    )
    shared = shares_its_store(settings) and not sweep_s3
    options = GcOptions(selection=selection, grace=kept_for, sweep=not shared)
    with _progress() as tell:
        planned = plan(repository, store, options, tell)
    if shared:
        diagnostics().print(
            f"blobs are not swept: the store is S3 bucket {settings.s3_bucket!r} and the "
            "metadata is this machine's embedded database, which does not know the runs other "
            "machines record into that bucket; pass --sweep-s3 if it records every one"
        )
    if dry_run or not (planned.runs or planned.blobs or planned.artifacts):
        _report(planned, dry_run=dry_run, json_=json_)
        return
    if not yes:
        _confirm(planned)
    with _progress() as tell:
        done = apply(repository, store, planned, options, tell)
    _report(done, dry_run=False, json_=json_)


def _confirm(planned: Collection) -> None:
    """Ask a terminal whether to go ahead; refuse anything else (nothing is deleted yet)."""
    if not sys.stdin.isatty():
        diagnostics().print(
            "[bold red]error:[/] argosy gc deletes runs and blobs: pass --yes to go ahead, or "
            "--dry-run to see what would go"
        )
        raise typer.Exit(1)
    notes = diagnostics()
    _describe(notes, planned, dry_run=True)
    notes.print("Delete them? [y/N] ", end="")  # not typer.confirm: it writes to stdout
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        notes.print("nothing deleted")
        raise typer.Exit(1)


def _report(collection: Collection, *, dry_run: bool, json_: bool) -> None:
    """What went, or would go: one JSON object, or lines of text, on stdout."""
    if json_:
        print_json(collection.to_json(dry_run=dry_run))
    else:
        _describe(results(), collection, dry_run=dry_run)


def _describe(console: Console, collection: Collection, *, dry_run: bool) -> None:
    """The collection in lines of text: in all, the runs (`LISTED` of each kind), the runs
    kept, the blobs' cut-off."""
    console.print(_summary(collection, dry_run=dry_run))
    _listed(
        console,
        [
            f"  {run.id}  {run.pipeline}  {run.status.value}  {_when(run.created_at)}  "
            f"{run.owner or '-'}"
            for run in collection.runs
        ],
    )
    if collection.kept:
        console.print(f"kept {len(collection.kept)} selected run(s):")
        _listed(console, [f"  {kept.id}  ({kept.reason})" for kept in collection.kept])
    if collection.cutoff is not None:
        held = f", when live run {collection.held_by} started" if collection.held_by else ""
        since = _when(collection.cutoff)
        console.print(escape(f"blobs stored since {since}{held} are kept, used or not"))


def _listed(console: Console, lines: list[str]) -> None:
    for line in lines[:LISTED]:
        console.print(escape(line))
    if len(lines) > LISTED:
        console.print(f"  ... and {len(lines) - LISTED} more (--json lists them all)")


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _summary(collection: Collection, *, dry_run: bool) -> str:
    verb, freed = ("would delete", "would free") if dry_run else ("deleted", "freed")
    if not (collection.runs or collection.blobs or collection.artifacts):
        return "nothing to delete"
    return (
        f"{verb} {len(collection.runs)} run(s) with {collection.records} record(s) "
        f"({human_bytes(collection.record_bytes)}), {len(collection.blobs)} blob(s) "
        f"({human_bytes(collection.blob_bytes)}) and {collection.artifacts} artifact row(s): "
        f"{freed} {human_bytes(collection.freed)}"
    )


@contextmanager
def _progress() -> Iterator[Tell]:
    """A progress line on stderr (on a terminal only) and the callback that moves it."""
    console = diagnostics()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn())
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("", total=None)

        def tell(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total or None)

        yield tell


def register(app: typer.Typer) -> None:
    """Add ``gc`` to the ``argosy`` app."""
    app.command("gc")(gc)


__all__ = ["gc", "register"]
