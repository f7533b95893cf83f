"""The site's strict Content-Security-Policy holds on real pages in a real browser.

Every journey already fails on a CSP report (``support.check_page``); this
module sweeps the pages no journey walks through and proves the detection works.
"""

from __future__ import annotations

import pytest

from tests.browser.support import csp_violations, sign_in, visit

pytestmark = pytest.mark.browser

ANONYMOUS_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/clinicians/",
    "/community/",
    "/feedback/",
    "/community-guidelines/",
]
PATIENT_PAGES = [
    "/",
    "/clinicians/",
    "/community/",
    "/messages/",
    "/feedback/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
]


def test_no_content_security_policy_violation_is_reported_on_anonymous_and_patient_pages(page):
    response = page.goto("/")
    assert response is not None
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "default-src 'self'" in policy, policy

    for path in ANONYMOUS_PAGES:
        visit(page, path)  # fails on the first CSP report, and runs axe
    sign_in(page, "patient1")
    for path in PATIENT_PAGES:
        visit(page, path)

    assert csp_violations(page) == []


def test_inline_script_is_blocked_and_reported_by_the_content_security_policy(page):
    # Control for the test above: an injected inline script must be refused and
    # the refusal must reach the console listener the journeys rely on.
    visit(page, "/")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__cspProbe = 'ran'";
          document.head.appendChild(script);
        }"""
    )
    page.wait_for_timeout(200)

    assert page.evaluate("() => window.__cspProbe") is None
    reported = csp_violations(page)
    assert len(reported) == 1 and "script-src" in reported[0], reported
