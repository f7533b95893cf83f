"""The stack under the browser journeys, proved from outside the server.

On the services run (``make test-services``) the live server must run as a
hospital runs it in production: PostgreSQL, the Redis channel layer, Redis
cache and the RQ task queue, with live updates crossing server processes.
On the embedded run it is the embedded default: SQLite and the in-memory
channel layer.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.browser import support
from tests.browser.support import sign_in, sign_out, visit

pytestmark = pytest.mark.browser

EMBEDDED = "database=sqlite3 channel_layer=InMemoryChannelLayer"
SERVICES = "database=postgresql channel_layer=RedisChannelLayer cache=RedisCache tasks=RQBackend"


def _sign_ins_recorded(portal: support.LivePortal, username: str) -> int:
    """Sign-in events for ``username`` in the live server's own database, read directly."""
    query = "SELECT count(*) FROM portal_social_auditevent WHERE action = 'auth.login' AND actor_label = %s"
    if portal.on_services:
        import psycopg

        with psycopg.connect(portal.database_url) as connection:
            return connection.execute(query, (username,)).fetchone()[0]
    with sqlite3.connect(portal.db_path) as connection:
        return connection.execute(query.replace("%s", "?"), (username,)).fetchone()[0]


def test_the_live_server_runs_on_the_stack_of_the_run(page, live_portal):
    expected = SERVICES if support.services() else EMBEDDED
    assert expected in live_portal.stack_line(), live_portal.stack_line()

    before = _sign_ins_recorded(live_portal, "patient2")
    sign_in(page, "patient2")

    # The server wrote the sign-in to the database this test reads: the run's database, not another.
    assert _sign_ins_recorded(live_portal, "patient2") == before + 1


# Opens the portal socket and records how it ends; resolves once it is open (or failed to open).
OPEN_SOCKET = """
(url) => new Promise((resolve) => {
  window.__portalSocket = {closeCode: null};
  const ws = new WebSocket(url);
  const timer = setTimeout(() => resolve("timeout"), 5000);
  ws.onopen = () => ws.send(JSON.stringify({type: "ping"}));
  ws.onmessage = (event) => {
    if (JSON.parse(event.data).type === "pong") { clearTimeout(timer); resolve("open"); }
  };
  ws.onclose = (event) => { window.__portalSocket.closeCode = event.code; clearTimeout(timer); resolve("closed"); };
})
"""


def test_signing_out_on_one_server_closes_the_socket_held_by_another(page, live_portal, second_live_portal):
    """Two daphne processes: the browser signs out through the first; the socket
    the second holds for that session closes at once, pushed through Redis."""
    if not support.services():
        pytest.skip("live updates cross processes through the Redis channel layer: make test-services")
    sign_in(page, "patient1")
    # Cookies belong to the host, not the port: the same session reaches the second server.
    other = page.context.new_page()
    support.watch_console(other)
    visit(other, second_live_portal.base_url + "/messages/")
    assert other.evaluate(OPEN_SOCKET, second_live_portal.ws_url) == "open"

    visit(page, "/messages/")
    sign_out(page)

    other.wait_for_function("() => window.__portalSocket.closeCode !== null", timeout=5000)
    assert other.evaluate("() => window.__portalSocket.closeCode") == 4401
    assert support.csp_violations(other) == []
