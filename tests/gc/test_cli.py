"""``argosy gc`` from the command line, in this process (as the console script runs it): results
on stdout, errors as one line, confirmation only on a terminal; and on an S3 store."""

from __future__ import annotations

import io

import pytest

from argosy.cli.gc import LISTED
from argosy.client import Client
from argosy.config import Settings
from argosy.metadata import open_sink
from argosy.metadata.schemas import RunCreate, RunStatus, RunUpdate
from argosy.store import open_store
from tests.cli.test_inspect import Cli
from tests.gc import flows
from tests.gc.conftest import age, age_blobs, blobs, run, run_ids


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


class Terminal(io.StringIO):
    """A stdin that is a terminal, where someone types what it is made with."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def two_runs(home: Settings) -> tuple[str, str]:
    """An old run and a new one (runs of ``user:tester``, the current user)."""
    old, new = run(home, flows.sums, n=3), run(home, flows.sums, n=4)
    age(home, old, days=10)
    return old, new


def test_a_dry_run_tells_what_would_go_and_deletes_nothing(
    home: Settings, two_runs: tuple[str, str], cli: Cli
) -> None:
    old, new = two_runs
    before = blobs(home)
    code, out, err = cli("gc", "--older-than", "7d", "--dry-run", "--grace", "0s")
    assert code == 0, err
    assert out.startswith("would delete 1 run(s) with 9 record(s)")
    assert old in out and new not in out
    would = cli.json("gc", "--older-than", "1w", "--dry-run", "--grace", "0s")
    assert would["dry_run"] and [r["id"] for r in would["runs"]] == [old]
    assert would["blobs"] >= 1 and would["bytes_freed"] > would["blob_bytes"] >= 32 * 1024
    assert run_ids(home) == {old, new} and blobs(home) == before

    done = cli.json("gc", "--older-than", "7d", "--grace", "0s", "--yes")
    assert not done["dry_run"]
    assert {k: v for k, v in done.items() if k not in ("dry_run", "cutoff")} == {
        k: v for k, v in would.items() if k not in ("dry_run", "cutoff")
    }
    listed = cli.json("runs", "--all-owners")["runs"]
    assert [r["id"] for r in listed] == [new]


def test_without_yes_a_terminal_is_asked_and_anything_else_refused(
    home: Settings,
    two_runs: tuple[str, str],
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = two_runs
    code, out, err = cli("gc", "--run", old[:-3])  # stdin is not a terminal
    assert code == 1 and out == ""
    assert "pass --yes to go ahead, or --dry-run" in err
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, err = cli("gc", "--run", old[:-3])
    assert code == 1 and "would delete 1 run(s)" in err and "nothing deleted" in err
    assert run_ids(home) == {old, new}
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, out, err = cli("gc", "--run", old[:-3])
    assert code == 0 and out.startswith("deleted 1 run(s)"), err
    assert run_ids(home) == {new}


def test_owners_scope_the_selection_as_argosy_runs_does(
    home: Settings, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = run(home, flows.sums, n=2)
    monkeypatch.setenv("ARGOSY_USER", "someone")
    theirs = run(Settings(), flows.sums, n=2)
    monkeypatch.setenv("ARGOSY_USER", "tester")
    assert [r["id"] for r in cli.json("gc", "--pipeline", "sums", "--yes")["runs"]] == [mine]
    assert run_ids(home) == {theirs}
    gone = cli.json("gc", "--owner", "user:someone", "--keep-last", "0", "--yes")
    assert [r["id"] for r in gone["runs"]] == [theirs] and run_ids(home) == set()


def test_with_no_selection_only_unused_blobs_go(home: Settings, cli: Cli) -> None:
    kept = run(home, flows.sums, n=2)
    stray = open_store(home).put_bytes(b"nobody uses this")
    age_blobs(home, days=2)
    done = cli.json("gc", "--yes")
    assert done["runs"] == [] and done["blobs"] == 1 and done["records"] == 0
    assert stray not in blobs(home) and run_ids(home) == {kept}
    code, out, _ = cli("gc", "--yes")
    assert code == 0 and out.startswith("nothing to delete")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "7 days"], "--older-than"),
        (["--grace", "soon"], "--grace"),
        (["--owner", "user:a", "--all-owners"], "not both"),
        (["--keep-last", "-1"], "--keep-last"),
    ],
)
def test_bad_options_are_usage_errors(
    home: Settings, cli: Cli, args: list[str], message: str
) -> None:
    code, out, err = cli("gc", *args, "--dry-run")
    assert code == 2 and out == "" and message in err and "Traceback" not in err


def test_a_metadata_service_is_refused_with_what_to_do(
    home: Settings, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOSY_METADATA_URL", "http://127.0.0.1:9/")
    code, out, err = cli("gc", "--dry-run")
    assert code == 1 and out == ""
    assert "where the database is reachable" in err and "ARGOSY_DATABASE_URL" in err


def test_an_s3_bucket_is_swept_against_the_embedded_metadata_only_when_asked(
    s3_settings: Settings, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "ARGOSY_HOME": str(s3_settings.home),
        "ARGOSY_S3_ENDPOINT": s3_settings.s3_endpoint,
        "ARGOSY_S3_BUCKET": s3_settings.s3_bucket,
        "ARGOSY_S3_ACCESS_KEY": s3_settings.s3_access_key.get_secret_value(),  # type: ignore[union-attr]
        "ARGOSY_S3_SECRET_KEY": s3_settings.s3_secret_key.get_secret_value(),  # type: ignore[union-attr]
        "ARGOSY_S3_SECURE": "false",
        "ARGOSY_USER": "tester",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    settings = Settings()
    old, new = run(settings, flows.sums, n=3), run(settings, flows.sums, n=4)
    age(settings, old, days=10)
    store = open_store(settings)
    listed = {blob.digest for blob in store.blobs()}

    code, out, err = cli("gc", "--older-than", "7d", "--grace", "0s", "--yes")
    assert code == 0, err
    assert "blobs are not swept" in err and "--sweep-s3" in err
    assert out.startswith("deleted 1 run(s)") and "0 blob(s)" in out
    assert store.list_records(f"runs/{old}/") == [] and run_ids(settings) == {new}
    assert {blob.digest for blob in store.blobs()} == listed

    done = cli.json("gc", "--sweep-s3", "--grace", "0s", "--yes")
    assert done["blobs"] >= 1 and done["bytes_freed"] >= 32 * 1024  # the old run's payload
    left = {blob.digest for blob in store.blobs()}
    assert left < listed
    assert cli.json("show", new)["run"]["status"] == "succeeded"
    assert all(task.output.load() is not None for task in Client(settings).run(new).tasks())


def test_runs_recorded_in_postgres_are_collected_there(
    home: Settings, postgres_url: str, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGOSY_DATABASE_URL", postgres_url)
    settings = Settings()
    old, new = run(settings, flows.sums, n=3), run(settings, flows.sums, n=4)
    age(settings, old, days=10)
    age_blobs(settings, days=1)
    done = cli.json("gc", "--older-than", "7d", "--yes")
    assert [r["id"] for r in done["runs"]] == [old] and done["artifacts"] >= 1
    assert done["blob_bytes"] >= 32 * 1024  # the old run's payload, among others
    assert run_ids(settings) == {new}
    assert Client(settings).run(new).output("total").load() == sum(x * x for x in range(4)) + 4


def test_text_lists_the_first_runs_and_json_every_one(home: Settings, cli: Cli) -> None:
    sink = open_sink(home)
    for n in range(LISTED + 2):
        sink.create_run(RunCreate(id=f"r{n:02d}", pipeline="p", pipeline_version="v" * 64))
        sink.update_run(f"r{n:02d}", RunUpdate(status=RunStatus.SUCCEEDED))
    code, out, err = cli("gc", "--pipeline", "p", "--all-owners", "--dry-run")
    assert code == 0, err
    assert out.count("  r") == LISTED and "... and 2 more (--json lists them all)" in out
    listed = cli.json("gc", "--pipeline", "p", "--all-owners", "--yes")["runs"]
    assert [r["id"] for r in listed] == [f"r{n:02d}" for n in range(LISTED + 2)]


def test_runs_are_named_by_id_or_unique_prefix_never_by_pipeline(
    home: Settings, two_runs: tuple[str, str], cli: Cli
) -> None:
    for ref, message in [
        ("sums", "run prefix 'sums' is shared by"),  # a pipeline's name: its runs' prefix
        ("nope-run", "no run 'nope-run'"),
        ("sum", "a prefix needs 4 characters"),
    ]:
        code, out, err = cli("gc", "--run", ref, "--yes")
        assert code == 1 and out == "" and message in err, err
    assert run_ids(home) == set(two_runs)
