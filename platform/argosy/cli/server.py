"""The metadata service commands: ``argosy server`` and ``argosy token create|list|revoke``.

``argosy server`` serves the FastAPI app with uvicorn on the database of ``--database-url`` /
``ARGOSY_DATABASE_URL`` (else the embedded SQLite under ``ARGOSY_HOME``); ``--migrate`` applies
the Alembic migrations first (the Helm chart passes it). When it starts it prints how to get a
token and query it, as commands to paste (`startup_help`). The token commands work straight on
that database: ``create`` mints a bearer token and prints it once (the database keeps only its
hash), ``list`` shows each token's id, name, scope and age, ``revoke`` deletes one.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from argosy.cli.console import diagnostics, print_json, results
from argosy.cli.lazy import ListingGroup
from argosy.config import Settings

if TYPE_CHECKING:
    from argosy.metadata.repository import Repository

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the metadata database (default: ARGOSY_DATABASE_URL, "
        "else SQLite under ARGOSY_HOME).",
    ),
]


class TokenScopeChoice(StrEnum):
    READ = "read"
    WRITE = "write"


def _settings(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


@contextmanager
def _token_database(database_url: str | None) -> Iterator[Repository]:
    from argosy.metadata.repository import Repository

    settings = _settings(database_url)
    embedded = settings.database_url is None  # a server's database is migrated by the server
    with Repository(settings.embedded_database_url, migrate=embedded) as repository:
        repository.check()
        yield repository


def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database_url: DatabaseUrl = None,
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Apply the database migrations before serving.")
    ] = False,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (off: faster).")
    ] = False,
) -> None:
    """Serve the metadata REST API (runs, tasks, artifacts, lineage) with OpenAPI at /docs."""
    import uvicorn

    from argosy.metadata.service import create_app

    settings = _settings(database_url)
    app = create_app(settings, migrate=migrate)
    console = diagnostics()  # commands stay whole (soft wrap)
    console.print(startup_help(settings, host, port), markup=False)
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info")


def startup_help(settings: Settings, host: str, port: int) -> str:
    """Where the service listens, and the commands that mint a token and query it from another
    shell (on the same machine, with the same database)."""
    url = f"http://{_local_address(host)}:{port}"
    hidden = False
    if settings.database_url is None:
        database = f"the embedded database in {settings.home}"
        mint = f"ARGOSY_HOME={shlex.quote(str(settings.home))} argosy token create --scope write"
    else:
        database, hidden = _shown_url(settings.database_url)
        mint = f"argosy token create --scope write --database-url {shlex.quote(database)}"
    if settings.anonymous_reads:
        needs = "Reads need no token here; writes need a write token."
    else:
        needs = "Every API request needs a token."
    lines = [
        f"argosy server: the metadata service of {database}, at {url} (API docs: {url}/docs)",
        f"Web UI: {url}/ui (log in with a token).",
        f"{needs} From another shell, mint one, query the service and record runs there:",
        f"  export ARGOSY_TOKEN=$({mint})",
        f'  curl -H "Authorization: Bearer $ARGOSY_TOKEN" {url}/api/v1/runs',
        f"  export ARGOSY_METADATA_URL={url}",
    ]
    if hidden:
        lines.append("(Put the database's password where the URL shows ***.)")
    if settings.admin_token is not None:
        lines.append("The ARGOSY_ADMIN_TOKEN it started with is a write token as well.")
    return "\n".join(lines)


def _local_address(host: str) -> str:
    """How a client on this machine reaches a server listening on ``host``."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _shown_url(database_url: str) -> tuple[str, bool]:
    """``database_url`` fit to print (its password as ``***``), and whether it had one."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    return url.render_as_string(hide_password=True), url.password is not None


def create_token(
    scope: Annotated[
        TokenScopeChoice, typer.Option(help="read: queries only; write: also records runs.")
    ] = TokenScopeChoice.READ,
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "cli",
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Mint a bearer token for the metadata service and print it (it is shown only once)."""
    from argosy.metadata.tokens import new_token

    token = new_token()
    with _token_database(database_url) as repository:
        repository.add_token(token, scope.value, name)
    if as_json:
        print_json({"token": token, "scope": scope.value, "name": name})
        return
    diagnostics().print(f"[green]minted a {scope.value} token[/] {name!r}; keep it secret:")
    typer.echo(token)


def list_tokens(
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List the tokens the metadata service accepts (ids and names, never the tokens)."""
    with _token_database(database_url) as repository:
        found = repository.list_tokens()
    if as_json:
        print_json({"tokens": [token.model_dump(mode="json") for token in found]})
        return
    table = Table("id", "name", "scope", "created", box=None)
    for token in found:
        table.add_row(token.id, token.name, token.scope, f"{token.created_at:%Y-%m-%d %H:%M}")
    if not found:
        diagnostics().print("no tokens; mint one with argosy token create")
        return
    results().print(table)


def revoke_token(
    id_or_name: Annotated[str, typer.Argument(help="The token's id (argosy token list) or name.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Stop accepting a token. A running service notices within 10 s (its token cache)."""
    with _token_database(database_url) as repository:
        revoked = repository.revoke_token(id_or_name)
    results().print(f"revoked {revoked.scope} token {revoked.id} {revoked.name!r}")


def register(app: typer.Typer) -> None:
    """Add ``server`` and ``token create|list|revoke`` to the ``argosy`` app."""
    app.command("server")(server)
    tokens = typer.Typer(
        cls=ListingGroup, help="Bearer tokens of the metadata service.", no_args_is_help=True
    )
    tokens.command("create")(create_token)
    tokens.command("list")(list_tokens)
    tokens.command("revoke")(revoke_token)
    app.add_typer(tokens, name="token")


__all__ = ["create_token", "list_tokens", "register", "revoke_token", "server", "startup_help"]
