"""The collector while a command starts (`argosy.cli.startup`): off until the command's module
is imported, then on with what exists set aside; as it was before once the command ends, so
code calling `argosy.cli.main` in a longer process (these tests) keeps a normal collector."""

from __future__ import annotations

import gc

import pytest

from argosy.cli import main
from argosy.cli.startup import started, starting
from argosy.config import Settings


def test_the_collector_is_off_until_started_then_on_and_back_to_normal_after() -> None:
    with starting():
        assert not gc.isenabled()
        started()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_command_the_process_ends_with_keeps_what_was_set_aside() -> None:
    with starting(process_ends=True):
        started()
    try:
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # the collection at exit skips them
    finally:
        gc.unfreeze()


def test_a_command_that_fails_leaves_the_collector_as_it_found_it(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["show", "no-such-run", "--json"])
    assert "error:" in capsys.readouterr().err
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["runs", "--help"]])
def test_help_and_version_leave_the_collector_on(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    main(args)
    assert capsys.readouterr().out
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
