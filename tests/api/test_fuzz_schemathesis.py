"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

Every operation gets generated requests through the WSGI app (in-process, in the test's
database transaction); every response must be documented, match its schema and never be 5xx.
Bounded: a few examples per operation, no example database written to the checkout.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role
from accounts.services import api_token_create
from detection.models import AnalysisJob
from moderation.services import review_item_route
from tests.factories import UserFactory, done_job

MAX_EXAMPLES = 15
# "Schema-valid input must be accepted" is left out on purpose: some rules are not expressible
# in the schema (a callback host must resolve to a public address, a file must not be empty,
# credentials must be right) and answer a documented 400.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Loaded at collection: the schema view needs no database. (schemathesis' `from_fixture`
# does not work with our pytest version.)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app runs inside the test's transaction. Django closes a connection whose
    autocommit differs from its settings at the end of each request, which would close the
    test's own connection on PostgreSQL; its test client disconnects that handler, and so does
    this (SQLite's in-memory test database never closes)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_response_is_documented_and_no_request_breaks_the_server(case):
    # Moderation operations as a moderator (an uploader only ever gets 403 there).
    moderator = "/moderation/" in case.path
    user = UserFactory(
        username="fuzz-mod" if moderator else "fuzzer",
        role=Role.MODERATOR if moderator else Role.UPLOADER,
    )
    if not AnalysisJob.objects.exists():
        review_item_route(job=done_job(uploader=UserFactory(username="fuzz-uploader")))
    if not user.videos.exists() and not moderator:
        done_job(uploader=user)  # something real to list
    key = api_token_create(user=user, replace=False).key  # fresh even after a fuzzed revoke
    case.call_and_validate(headers={"Authorization": f"Token {key}"}, checks=CHECKS)
