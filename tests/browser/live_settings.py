"""Settings of the live server the browser journeys drive.

The example portal's dev settings (plain HTTP on 127.0.0.1, file mail), on
the stack the test run names:

* ``LIVE_DATABASE_URL`` unset: the SQLite file at ``PORTAL_DB_PATH``, the
  in-memory channel layer and the database task backend (the embedded default);
* ``LIVE_DATABASE_URL`` and ``LIVE_REDIS_URL`` set (``make test-services``): a
  PostgreSQL database of its own, the Redis channel layer, a Redis cache and
  the Redis (RQ) task queue, as production runs them. Several server
  processes can share them.

The server writes one line naming the backends it runs on to its log when it
starts, and ``tests/browser/test_live_stack.py`` proves them from outside.
"""

import os
import sys

from example_site.settings.dev import *  # noqa: F401,F403

if os.environ.get("LIVE_PRIVATE_FILES_ROOT"):
    # Encrypted attachments and shared files the journeys upload stay in the run's own folder.
    PORTAL_SOCIAL_PRIVATE_FILES_ROOT = os.environ["LIVE_PRIVATE_FILES_ROOT"]

if os.environ.get("LIVE_DATABASE_URL"):
    import dj_database_url

    # One connection per request: daphne serves each request on a thread of its own.
    DATABASES = {"default": dj_database_url.parse(os.environ["LIVE_DATABASE_URL"], conn_max_age=0)}

if os.environ.get("LIVE_REDIS_URL"):
    LIVE_REDIS_URL = os.environ["LIVE_REDIS_URL"]
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": LIVE_REDIS_URL}}
    CHANNEL_LAYERS = {  # a read timeout above channels-redis's 5-second blocking read (production settings)
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # One Redis list per server process carries the pushes for all its sockets; channels-redis drops a push
            # (logging it only at INFO) once that list holds "capacity" of them, which a busy process with a few
            # hundred sockets reaches with the default of 100.
            "CONFIG": {"hosts": [{"address": LIVE_REDIS_URL, "socket_timeout": 15}], "capacity": 2000},
        }
    }
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]  # noqa: F405
    RQ_QUEUES = {"default": {"URL": LIVE_REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


def describe_stack() -> str:
    """One line naming the database, channel layer, cache and task backends in use."""
    return "live server stack: database={} channel_layer={} cache={} tasks={}".format(
        DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
        globals().get("CACHES", {}).get("default", {}).get("BACKEND", "locmem").rsplit(".", 1)[-1],
        TASKS["default"]["BACKEND"].rsplit(".", 1)[-1],
    )


if os.environ.get("LIVE_SERVER_ANNOUNCE") == "1":
    print(describe_stack(), file=sys.stderr, flush=True)
