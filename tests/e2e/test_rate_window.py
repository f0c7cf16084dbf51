"""In scale-out mode the experiment rate window lives in Redis: N API replicas give a client
the limit once, not N times."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api.security import RateLimiter, RedisRateLimiter, TooManyRequestsError, make_rate_limiter
from app.config import Settings
from tests.e2e.servers import PrivateRedis
from tests.e2e.services import Services


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("rate"))
    try:
        yield server
    finally:
        server.stop()


def _passes(limiter: RedisRateLimiter, client: str) -> bool:
    try:
        limiter.hit(client)
    except TooManyRequestsError:
        return False
    return True


def test_two_limiters_share_one_window(redis_server: PrivateRedis) -> None:
    one, two = (RedisRateLimiter(redis_server.url, "t1", limit=3, window=1.0) for _ in "ab")
    assert [_passes(lim, "key:a") for lim in (one, two, one, two, one)] == [
        True, True, True, False, False,
    ]  # fmt: skip
    with pytest.raises(TooManyRequestsError) as refused:
        two.hit("key:a")
    assert refused.value.headers == {"Retry-After": "1"}
    assert _passes(one, "key:b")  # another client has its own window
    assert _passes(RedisRateLimiter(redis_server.url, "t2", limit=3), "key:a")  # another prefix
    time.sleep(1.1)  # the window slides: the first events have left it
    assert _passes(two, "key:a")


def test_simultaneous_hits_never_exceed_the_limit(redis_server: PrivateRedis) -> None:
    limiters = [RedisRateLimiter(redis_server.url, "t3", limit=5) for _ in range(4)]
    start = threading.Barrier(40)
    passed: list[bool] = []

    def hit(i: int) -> None:
        start.wait()
        passed.append(_passes(limiters[i % 4], "key:crowd"))

    threads = [threading.Thread(target=hit, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert passed.count(True) == 5 and passed.count(False) == 35
    ttl = limiters[0].redis.pttl("t3:rate:experiments:key:crowd")
    assert 0 < ttl <= 60_000  # an idle client's window does not stay in Redis


def test_the_limiter_follows_the_mode(redis_server: PrivateRedis, tmp_path: Path) -> None:
    assert isinstance(make_rate_limiter(Settings(data_dir=tmp_path)), RateLimiter)
    scaled = make_rate_limiter(Settings(data_dir=tmp_path, queue_url=redis_server.url))
    assert isinstance(scaled, RedisRateLimiter) and scaled.prefix == "divergence"


def test_two_api_replicas_give_the_limit_once(redis_server: PrivateRedis, tmp_path: Path) -> None:
    env = {"DIVERGENCE_QUEUE_URL": redis_server.url, "DIVERGENCE_EXPERIMENT_RATE_PER_MINUTE": "4"}
    first, second = Services(tmp_path / "a", **env), Services(tmp_path / "b", **env)
    second.env["DIVERGENCE_QUEUE_NAME"] = first.env["DIVERGENCE_QUEUE_NAME"]
    body = {"dataset": "synthetic", "epochs": 1}
    try:
        first.start_api()
        second.start_api()
        codes = [
            (first if i % 2 else second).http.post("/v1/experiments", json=body).status_code
            for i in range(8)
        ]
        assert codes == [202] * 4 + [429] * 4
        r = first.http.post("/v1/experiments", json=body)
        assert r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["retry-after"]) <= 60
    finally:
        first.close()
        second.close()
