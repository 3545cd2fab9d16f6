"""Schemathesis beyond the positive cases (tests/integration/test_fuzz.py): negative data,
methods a path does not take, and stateful sequences that follow the document's links.

- Negative data: every operation gets schema-violating inputs; each must be refused with a
  documented 4xx problem (negative_data_rejection), never a 5xx.
- Unsupported methods: the coverage phase's "unspecified HTTP method" cases for every path;
  each must be 405 with `Allow` naming exactly the methods the document lists.
- Stateful: hypothesis runs of the state machine schemathesis builds from the links it infers
  (create a key, then read and revoke it; put a unit, then read it ...), every response
  checked against the document.

Bounded and reproducible: HOTLINE_FUZZ_NEGATIVE_EXAMPLES per operation (default 4),
HOTLINE_FUZZ_STATEFUL_EXAMPLES scenarios of at most 10 steps (default 8), seed
HOTLINE_FUZZ_SEED as in test_fuzz.py.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.generation.meta import CoverageScenario, coverage_scenario

from tests.integration.test_fuzz import CALLER, SEED

NEGATIVE_EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_NEGATIVE_EXAMPLES", "4"))
STATEFUL_EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_STATEFUL_EXAMPLES", "8"))
PROBLEM = "application/problem+json"
REGISTRY = r"^/api/v1/(keys|units|categories|districts|deputies|accounts|stations|terms|point-rules)\b"

CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def _problem_shaped(response: Any, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    if response.status_code >= 400:
        ctype = response.headers.get("content-type", [""])
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        assert ctype.startswith(PROBLEM), (where, response.status_code, ctype)
        body = response.json()
        assert body["status"] == response.status_code and {"type", "title", "detail"} <= body.keys()


def _world(api: Any) -> Any:
    api.city()
    api.ticket(units=["water-bureau", "heshan-gov"])
    return api


def test_negative_data_is_rejected_by_every_operation(api: Any) -> None:
    world = _world(api)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    failures: list[str] = []
    for result in loaded.get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        who = CALLER.get((method, path), "admin")
        auth = world.h(who)

        try:
            _negative(operation, who, auth)()
        except Unsatisfiable:
            continue  # nothing to negate: no parameter, no body
        except Exception as exc:
            failures.append(f"{operation.label} as {who} (HOTLINE_FUZZ_SEED={SEED}): {exc}"[:2000])
    assert not failures, "\n\n".join(failures)


def _negative(operation: Any, who: str, auth: dict[str, str]) -> Any:
    @seed(SEED)
    @settings(
        max_examples=NEGATIVE_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def run(case: Any) -> None:
        headers = {**(case.headers or {}), **auth}
        response = case.call_and_validate(
            headers=headers, checks=[*CONFORMANCE, checks.negative_data_rejection]
        )
        _problem_shaped(response, f"{case.operation.label} as {who}")

    return run


def test_unsupported_methods_are_405_with_allow(api: Any) -> None:
    world = _world(api)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    document = world.client.get("/openapi.json").json()
    failures: list[str] = []
    tried = 0
    for result in loaded.get_all_operations():
        operation = result.ok()
        generation = loaded.config.generation_for(operation=operation)
        cases = [
            case
            for case in loaded.iter_coverage_cases(
                operation, generation_modes=[GenerationMode.NEGATIVE], generation_config=generation
            )
            if coverage_scenario(case) == CoverageScenario.UNSPECIFIED_HTTP_METHOD
        ]
        documented = sorted(m.upper() for m in document["paths"][operation.path] if m != "parameters")
        for case in cases:
            tried += 1
            where = f"{case.method} {case.formatted_path}"
            try:
                response = case.call_and_validate(
                    headers=world.h("admin"),
                    checks=[
                        checks.not_a_server_error,
                        checks.unsupported_method,
                        checks.allow_header_conformance,
                    ],
                )
                assert response.status_code == 405, (where, response.status_code, response.text[:200])
                _problem_shaped(response, where)
                allow = response.headers.get("allow", [""])
                allow = allow[0] if isinstance(allow, list) else allow
                assert allow.split(", ") == documented, (where, allow, documented)
            except Exception as exc:
                failures.append(f"{where}: {exc}"[:1000])
    assert tried > 100, tried  # every path has methods it does not take
    assert not failures, "\n\n".join(failures)


def test_stateful_sequences_follow_the_links(api: Any) -> None:
    world = _world(api)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    auth = world.h("admin")
    # The registry's resources: made by one call, read, changed or removed by the next,
    # with the identifiers the links carry (the ticket flows need several roles' keys).
    base = loaded.include(path_regex=REGISTRY).as_state_machine()

    linked: list[str] = []

    class Machine(base):  # type: ignore[misc,valid-type]
        def step(self, input: Any) -> Any:
            if input.transition is not None and input.is_applied:
                linked.append(f"{input.transition.id}: {input.case.operation.label}")
            return super().step(input)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {**(case.headers or {}), **auth}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=[*CONFORMANCE, checks.use_after_free])
            _problem_shaped(response, case.operation.label)

    Machine.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )
    )
    # the links carried data from one response into a later request
    assert linked, "no step followed a link"
    print(f"stateful steps that followed a link: {len(linked)}, e.g. {sorted(set(linked))[:5]}")
