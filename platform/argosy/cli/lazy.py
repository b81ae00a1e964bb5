"""The ``argosy`` command group: a command's module is imported only when that command runs.

Each command module of `argosy.cli` imports what its commands need (the local backend, the
metadata database, Hera...), which costs far more than parsing a command line. So the group
knows its commands from a table (`Listed`: the module that registers the command, its one-line
help, whether it is hidden) and imports a module when one of its commands is looked up to run
(``argosy run ...``, ``argosy run --help``), which ends the start-up (`argosy.cli.startup`).
The group's own help lists every command from the table, importing nothing, each with its whole
help line (`ListingGroup`); ``tests/cli/test_help.py`` checks the table against the commands.
"""

from __future__ import annotations

import importlib
import inspect
import textwrap
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, ClassVar, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_group

from argosy.cli.startup import started


class Listed(NamedTuple):
    """A command as the group's help lists it, before its module is imported."""

    module: str
    """The module of `argosy.cli` whose ``register(app)`` adds the command."""
    help: str
    """The first paragraph of the command's help."""
    hidden: bool = False


class _Commands(MutableMapping[str, Any]):
    """The group's commands by name, in the table's order; a module is imported when one of
    its commands is first looked up."""

    def __init__(self, listed: Mapping[str, Listed], group: LazyGroup) -> None:
        self._listed = listed
        self._group = group
        self._loaded: dict[str, Any] = {}

    def loaded(self, name: str) -> bool:
        return name in self._loaded

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded and name in self._listed:
            self._loaded.update(self._group.load(self._listed[name].module))
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._listed
        yield from (name for name in self._loaded if name not in self._listed)

    def __len__(self) -> int:
        return len(self._listed.keys() | self._loaded.keys())


class ListingGroup(TyperGroup):
    """A group whose help lists each command with the whole first paragraph of its help,
    wrapped at spaces only (Click cuts it to one line, and breaks ``--all-owners`` in two)."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                first = inspect.cleandoc(command.help or "").split("\n\n")[0]
                rows.append((name, " ".join(first.split())))
        if not rows:
            return
        with formatter.section("Commands"):
            indent = " " * formatter.current_indent
            column = max(len(name) for name, _ in rows) + 2
            width = max(formatter.width - formatter.current_indent - column, 20)
            for name, text in rows:
                lines = textwrap.wrap(text, width, break_on_hyphens=False) or [""]
                formatter.write(f"{indent}{name:<{column}}{lines[0]}\n")
                for line in lines[1:]:
                    formatter.write(f"{indent}{'':<{column}}{line}\n")


class LazyGroup(ListingGroup):
    """A Typer group over the commands of `listed` (set by a subclass), imported on demand."""

    listed: ClassVar[Mapping[str, Listed]] = {}
    package: ClassVar[str] = "argosy.cli"

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        eager = self.commands
        self.commands = _Commands(self.listed, self)
        self.commands.update(eager)
        self._listing = False

    def load(self, module: str) -> dict[str, Any]:
        """The commands ``module`` registers, made as this group would have made them."""
        app = typer.Typer(rich_markup_mode=self.rich_markup_mode, add_completion=False)
        importlib.import_module(f"{self.package}.{module}").register(app)
        started()
        return dict(get_group(app).commands)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The group's help, listing the commands not imported yet from the table."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names alone: importing nothing

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        assert isinstance(self.commands, _Commands)
        if self._listing and cmd_name in self.listed and not self.commands.loaded(cmd_name):
            entry = self.listed[cmd_name]
            return TyperCommand(
                name=cmd_name,
                help=entry.help,
                hidden=entry.hidden,
                rich_markup_mode=self.rich_markup_mode,
            )
        return self.commands.get(cmd_name)


__all__ = ["LazyGroup", "Listed", "ListingGroup"]
