"""Schemathesis fuzzes every operation of the OpenAPI document: no 5xx, every status documented,
every response matching its schema. Bounded (a few examples per operation) to run in about a
minute or two; on its own database, since generated requests post, close years and add users."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)
from webapp_helpers import make_web_env

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    env = make_web_env(tmp_path_factory.mktemp("fuzz"))
    state = env.app.state.devolve
    state.jobs.max_pending = 2            # generated forecasts may ask for 20,000 runs: keep the queue short
    yield env
    state.close()


def _token(fuzz_env, path: str) -> str:
    """A finance officer for the books' writes, an administrator for everything else."""
    user = "finance" if path in ("/api/v1/books/entries", "/api/v1/books/imports", "/api/v1/books/close-year") \
        else "admin"
    return fuzz_env.tokens[user]


def _fuzz(app, examples: int, headers_for) -> list[str]:
    """Fuzz every operation (Schemathesis's strategies driven by Hypothesis, not its pytest plugin,
    which does not follow this pytest); return a line per operation that failed."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failed = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers_for(case.operation.path), checks=CHECKS)

        try:
            run()
        except Exception as exc:  # a check failed: keep going, report every operation at the end
            failed.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    return failed


@pytest.mark.slow
def test_the_api_survives_fuzzing(fuzz_env):
    failed = _fuzz(fuzz_env.app, EXAMPLES,
                   lambda path: {"Authorization": f"Bearer {_token(fuzz_env, path)}"})
    assert not failed, "\n\n".join(failed)


@pytest.mark.slow
def test_anonymous_fuzzing_is_answered_not_crashed(fuzz_env):
    failed = _fuzz(fuzz_env.app, 3, lambda path: {})
    assert not failed, "\n\n".join(failed)
