"""``argosy --help`` lists every command from `argosy.cli.COMMANDS` without importing the
command modules; each command's own ``--help`` shows all its options; the table agrees with
what the modules register."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from typer.main import get_group

from argosy.cli import COMMANDS, app, main

MODULES = sorted({f"argosy.cli.{listed.module}" for listed in COMMANDS.values()})


def _help(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    main([*args, "--help"])
    out, err = capsys.readouterr()
    assert not err
    return out


def test_the_table_agrees_with_the_commands_the_modules_register() -> None:
    group = get_group(app)
    for name, listed in COMMANDS.items():
        command = group.commands[name]
        first = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert (first, command.hidden) == (listed.help, listed.hidden), name
    registered = {name for module in MODULES for name in _registered(module)}
    assert registered == set(COMMANDS)


def _registered(module: str) -> list[str]:
    import importlib

    import typer

    registrar = typer.Typer()
    importlib.import_module(module).register(registrar)
    return list(get_group(registrar).commands)


@pytest.mark.parametrize("columns", ["60", "72", "80", "200"])
def test_help_lists_every_visible_command_with_its_help_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)  # wrapped at any width, never inside a word
    out = " ".join(_help(capsys).split())
    for name, listed in COMMANDS.items():
        line = f"{name} {' '.join(listed.help.split())}"
        assert (line in out) != listed.hidden, name


def test_help_and_version_import_no_command_module() -> None:
    probe = (
        "import sys\n"
        "from argosy.cli import main\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as stop:\n"
        "        assert not stop.code, stop.code\n"
        "print(sorted(m for m in sys.modules if m.startswith(('argosy.cli.', 'pydantic',"
        " 'sqlalchemy', 'argosy.dsl'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['argosy.cli.lazy', 'argosy.cli.startup']"


@pytest.mark.parametrize(
    ("command", "options"),
    [
        (["run"], ["--param", "--max-workers", "--cache", "--gpu-fallback", "--json"]),
        (["runs"], ["--pipeline", "--status", "--limit", "--json"]),
        (["lineage"], ["--direction", "RUN/STEP[/INDEX]"]),
        (["show"], ["--step", "--limit", "--json"]),
        (["compile"], ["--kind", "--schedule", "--namespace"]),
        (["token", "create"], ["--scope"]),
        (["tag", "add"], ["run_id", "--json"]),
    ],
)
def test_a_command_help_shows_its_options(
    capsys: pytest.CaptureFixture[str], command: list[str], options: list[str]
) -> None:
    out = _help(capsys, *command)
    for option in options:
        assert option in out, option


def test_a_mistyped_command_is_a_usage_error_naming_the_close_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["rn"])
    assert stop.value.code == 2
    assert "Did you mean 'run', 'runs'?" in capsys.readouterr().err
