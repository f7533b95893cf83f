"""When DATABASE_URL / REDIS_URL are set (make test-services), the suite
really runs on PostgreSQL and Redis, not on silent fallbacks."""

import os

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache, caches
from django.db import connection

needs_postgres = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="DATABASE_URL not set")
needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")


@needs_postgres
@pytest.mark.django_db
def test_suite_runs_on_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


@needs_redis
def test_cache_and_rate_limits_use_redis():
    assert type(caches["default"]).__name__ == "RedisCache"
    cache.set("portal-social-test", "ok", 5)
    assert cache.get("portal-social-test") == "ok"


@needs_redis
def test_channel_layer_is_redis_and_delivers():
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "portal.event", "event": {"kind": "test"}})
    assert async_to_sync(layer.receive)(channel)["event"] == {"kind": "test"}
