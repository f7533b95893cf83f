"""The portal's websocket from a real browser page, under the site's Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.browser.support import csp_violations, sign_in, visit

pytestmark = pytest.mark.browser

# Resolves with the first reply, or with how the socket ended; never hangs.
PING = """
(url) => new Promise((resolve) => {
  const ws = new WebSocket(url);
  const timer = setTimeout(() => { ws.close(); resolve({timeout: true}); }, 5000);
  ws.onopen = () => ws.send(JSON.stringify({type: "ping"}));
  ws.onmessage = (event) => { clearTimeout(timer); ws.close(1000); resolve({reply: JSON.parse(event.data)}); };
  ws.onclose = (event) => { clearTimeout(timer); resolve({opened: ws.__opened === true, closeCode: event.code}); };
  ws.addEventListener("open", () => { ws.__opened = true; });
})
"""


def test_signed_in_patient_page_gets_pong_for_ping_over_the_portal_websocket(page, live_portal):
    sign_in(page, "patient1")
    visit(page, "/messages/")

    result = page.evaluate(PING, live_portal.ws_url)

    assert result == {"reply": {"type": "pong"}}, result
    # connect-src 'self' allows ws:// to the page's own host and port (CSP Level 3).
    assert csp_violations(page) == []


def test_anonymous_page_websocket_is_closed_with_the_sign_in_code(page, live_portal):
    # The consumer accepts and then closes with 4401, so a client can tell
    # "sign in again" from a network failure and stop retrying.
    visit(page, "/")

    result = page.evaluate(PING, live_portal.ws_url)

    assert result == {"opened": True, "closeCode": 4401}, result
    assert csp_violations(page) == []


def test_staff_page_without_mfa_websocket_is_closed_with_the_mfa_code(page, live_portal):
    # Staff without MFA only reach account pages; the socket refuses them too.
    sign_in(page, "clinician1")
    visit(page, "/accounts/email/")

    result = page.evaluate(PING, live_portal.ws_url)

    assert result == {"opened": True, "closeCode": 4403}, result
