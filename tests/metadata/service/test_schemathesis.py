"""Property-based fuzzing of the service's own OpenAPI spec: no input may cause a server error.

Runs in-process (ASGI) on SQLite, with the admin token so the writes are explored too, and a
bounded number of examples per operation so the whole run stays well under a minute.
(Schemathesis' pytest plugin does not work with this pytest, so operations are driven here.)
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from argosy.metadata.repository import Repository
from argosy.metadata.service import create_app
from tests.metadata.conftest import ADMIN_TOKEN, service_settings

EXAMPLES = 15
_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _fuzz(operation: schemathesis.APIOperation) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers=_HEADERS, checks=[not_a_server_error, response_schema_conformance]
        )

    run()


def test_no_input_causes_a_server_error(tmp_path: Path) -> None:
    repository = Repository(f"sqlite:///{tmp_path / 'fuzz.db'}")
    app = create_app(service_settings(tmp_path), repository=repository)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, fuzzed = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation)
        except Exception as failure:  # every failing operation is reported, not just the first
            failures.append(f"{operation.label}: {failure}")
        fuzzed += 1
    repository.close()
    assert fuzzed >= 18
    assert not failures, "\n\n".join(failures)
