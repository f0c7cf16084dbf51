"""Which errors mean "a dependency is down" (503 with Retry-After) and which remain bugs (500)."""

from __future__ import annotations

import errno
import sqlite3
import warnings

import pytest
import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI

from app.config import Settings
from app.errors import DependencyUnavailableError, install_problem_handlers
from app.jobs.wiring import dependency_failure

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _sqlalchemy(kind: type[sqlalchemy.exc.DBAPIError], message: str) -> Exception:
    return kind("INSERT INTO jobs ...", {}, Exception(message))


DOWN = [
    (_sqlalchemy(sqlalchemy.exc.OperationalError, "connection refused"), "job database does not"),
    (_sqlalchemy(sqlalchemy.exc.OperationalError, "database or disk is full"), "disk full"),
    (sqlalchemy.exc.TimeoutError("QueuePool limit reached"), "job database does not answer"),
    (sqlite3.OperationalError("database or disk is full"), "the queue cannot take writes"),
    (redis.exceptions.ConnectionError("Error 111 connecting"), "the queue does not answer"),
    (redis.exceptions.TimeoutError("Timeout reading"), "the queue does not answer"),
    (redis.exceptions.ResponseError("MISCONF Redis is configured to save"), "cannot take"),
    (OSError(errno.ENOSPC, "No space left on device"), "the data directory is full"),
]
BUGS = [
    _sqlalchemy(sqlalchemy.exc.IntegrityError, "UNIQUE constraint failed: jobs.id"),
    _sqlalchemy(sqlalchemy.exc.ProgrammingError, "syntax error"),
    redis.exceptions.ResponseError("WRONGTYPE Operation against a key"),
    OSError(errno.ENOENT, "No such file"),
    ValueError("nope"),
]


@pytest.mark.parametrize(("exc", "words"), DOWN)
def test_a_dependency_down_is_named(exc: Exception, words: str) -> None:
    what = dependency_failure(exc)
    assert what is not None and words in what


@pytest.mark.parametrize("exc", BUGS)
def test_other_errors_are_not_a_dependency_down(exc: Exception) -> None:
    assert dependency_failure(exc) is None


def _client(exc: Exception) -> TestClient:
    app = FastAPI()
    app.state.settings = Settings(dependency_retry_after=11)
    install_problem_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("exc", "words"), DOWN)
def test_a_dependency_down_is_a_503_with_retry_after(exc: Exception, words: str) -> None:
    r = _client(exc).get("/boom")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "11"
    body = r.json()
    assert body["title"] == "Service Unavailable" and words in body["detail"]
    assert "INSERT" not in body["detail"]  # no statement, host or path leaks


@pytest.mark.parametrize("exc", BUGS)
def test_a_bug_stays_a_500(exc: Exception) -> None:
    r = _client(exc).get("/boom")
    assert r.status_code == 500 and "retry-after" not in r.headers


def test_the_service_error_itself_carries_retry_after() -> None:
    r = _client(DependencyUnavailableError("the queue does not answer")).get("/boom")
    assert (r.status_code, r.headers["retry-after"]) == (503, "11")
