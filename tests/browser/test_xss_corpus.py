"""The XSS corpus, rendered by portal_social.core.text, in a real browser (Debian's chromium).

Every payload of tests/data/xss_payloads.json goes through ``render`` (images
off and on), ``sanitise`` (the payload as raw HTML) and ``render(render(…))``;
all the outputs go into ONE page without any Content-Security-Policy, so an
injected script *would* run. The page's ``alert``/``confirm``/``prompt``/
``print`` report to Python (an exposed binding survives navigations and
reaches every frame), as do script errors (``ErrorEvent``) and real dialogs.
Every element is then hovered, pointed at, focused, blurred and clicked
(synthetic events, plus real mouse hovers and clicks on links, bounded).

The harness is proved live by controls: raw, unsanitised payloads — an
``onerror``, an ``onload``, a ``javascript:`` link that only runs when
clicked, an ``onmouseover`` that only runs when hovered, an ``onfocus`` that
only runs when focused, a script inside an ``iframe srcdoc`` — each in its own
frame, and each must be reported. A second check renders the whole raw corpus
in frames and reports how much of it runs without the pipeline.

Uses the ``browser`` fixture of tests/browser/conftest.py (no live server); that
fixture sets ``DJANGO_ALLOW_ASYNC_UNSAFE`` for as long as Playwright's loop runs
(``render`` itself touches no database).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from portal_social.core.text import render, sanitise

pytestmark = pytest.mark.browser

CORPUS_FILE = Path(__file__).resolve().parents[1] / "data" / "xss_payloads.json"
PAYLOADS: list[str] = [item["payload"] for item in json.loads(CORPUS_FILE.read_text("utf-8"))["payloads"]]

#: Installed in every document and frame before any of its own scripts run.
HARNESS = """
(() => {
  // Name of the frame just below the top page (payload frames are named; nested frames are not).
  const frameName = () => {
    let w = window;
    try { while (w.parent !== w && w.parent !== window.top) w = w.parent; } catch (e) {}
    try { return String(w.name || ''); } catch (e) { return ''; }
  };
  const report = (kind, detail) => {
    try { window.__xssReport(kind, frameName(), String(detail).slice(0, 200)); } catch (e) {}
  };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    const spy = function (...args) { report(name, args.join(' ')); return name === 'prompt' ? null : undefined; };
    try {
      Object.defineProperty(window, name, {value: spy, writable: false, configurable: false});
    } catch (e) {
      window[name] = spy;
    }
  }
  window.__xss = [];
  window.onerror = (message) => { report('error', message); };
  // Script errors are ErrorEvents; a failed <img>/<video> load is a plain Event on the element.
  window.addEventListener('error', (event) => {
    if (event instanceof ErrorEvent) report('error', event.message);
  }, true);
  // Keep the page: safe links (http, https, mailto) are not followed. Anything else is.
  document.addEventListener('click', (event) => {
    const link = event.target && event.target.closest && event.target.closest('a[href]');
    if (link && /^(https?|mailto):/i.test(link.href)) event.preventDefault();
  }, true);
})();
"""

#: Runs in a frame: pokes every element (bounded) the ways handlers are triggered.
POKE = """
() => {
  const pointer = ['pointerover', 'pointerenter', 'pointermove', 'pointerdown', 'pointerup'];
  const mouse = ['mouseover', 'mouseenter', 'mousemove', 'mousedown', 'mouseup', 'dblclick', 'contextmenu'];
  const elements = Array.from(document.querySelectorAll('body *')).slice(0, 20000);
  for (const el of elements) {
    for (const type of pointer) {
      try { el.dispatchEvent(new PointerEvent(type, {bubbles: true, cancelable: true})); } catch (e) {}
    }
    for (const type of mouse) {
      try { el.dispatchEvent(new MouseEvent(type, {bubbles: true, cancelable: true, view: window})); } catch (e) {}
    }
    try { el.focus(); el.blur(); } catch (e) {}
    try { if (typeof el.click === 'function') el.click(); } catch (e) {}
  }
  return elements.length;
}
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>XSS corpus</title></head>
<body>
{body}
</body></html>"""

#: Raw payloads that must run when NOT sanitised, named so each one's report can be checked.
CONTROLS = {
    "onerror": "<img src=x onerror=alert(1)>",
    "onload": "<svg onload=alert(1)>",
    "click": '<a href="javascript:alert(1)">x</a>',
    "hover": "<div onmouseover=alert(1)>hover me</div>",
    "focus": "<input onfocus=alert(1)>",
    "srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
}


def _frames_page(named_payloads: dict[str, str]) -> str:
    """Each payload in its own iframe (``name`` attributes executions to payloads)."""
    frames = "\n".join(
        f'<iframe name="{html.escape(name)}" srcdoc="{html.escape(payload, quote=True)}"></iframe>'
        for name, payload in named_payloads.items()
    )
    return PAGE.format(body=frames)


class Harness:
    def __init__(self, browser):
        self.context = browser.new_context()
        self.context.set_default_timeout(5_000)
        self.context.route("**/*", lambda route: route.abort())  # hermetic: no network at all
        self.reports: list[tuple[str, str, str]] = []
        self.context.expose_function(
            "__xssReport", lambda kind, name, detail: self.reports.append((kind, name, detail))
        )
        self.context.add_init_script(HARNESS)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.reports.append(("pageerror", "", str(error)[:200])))

    def _dialog(self, dialog):
        self.reports.append(("dialog-" + dialog.type, "", dialog.message))
        dialog.dismiss()

    def load(self, content: str, *, real_clicks: int = 0) -> int:
        # "load" waits for every frame; 30 s because a busy machine runs several suites at once.
        self.page.set_content(content, wait_until="load", timeout=30_000)
        self.page.wait_for_timeout(500)
        poked = 0
        for frame in list(self.page.frames):
            try:
                poked += frame.evaluate(POKE)
            except Exception:  # noqa: BLE001 - a frame navigated away under us; its reports are already in
                continue
        links = self.page.locator("a").all()[:real_clicks]
        for link in links:
            try:
                link.hover(timeout=1_000, force=True)
                link.click(timeout=1_000, force=True, no_wait_after=True)
            except Exception:  # noqa: BLE001 - an element the layout hides; synthetic events already hit it
                continue
        self.page.keyboard.press("Tab")
        self.page.wait_for_timeout(500)
        return poked

    def close(self):
        self.context.close()


@pytest.fixture
def harness(browser):
    harness = Harness(browser)
    try:
        yield harness
    finally:
        harness.close()


def _outputs(settings) -> list[tuple[int, str]]:
    """(payload index, pipeline output) for every payload and every variant of the pipeline."""
    settings.PORTAL_SOCIAL_TEXT_ALLOW_IMAGES = False
    outputs = [(i, render(p)) for i, p in enumerate(PAYLOADS)]
    outputs += [(i, sanitise(p)) for i, p in enumerate(PAYLOADS)]
    outputs += [(i, render(render(p))) for i, p in enumerate(PAYLOADS)]
    settings.PORTAL_SOCIAL_TEXT_ALLOW_IMAGES = True
    outputs += [(i, render(p)) for i, p in enumerate(PAYLOADS)]
    outputs += [(i, sanitise(p)) for i, p in enumerate(PAYLOADS)]
    settings.PORTAL_SOCIAL_TEXT_ALLOW_IMAGES = False
    return outputs


def test_harness_detects_execution(harness):
    harness.load(_frames_page(CONTROLS))
    fired = {name for _kind, name, _detail in harness.reports}
    assert fired >= set(CONTROLS), f"controls that did not fire: {sorted(set(CONTROLS) - fired)}; {harness.reports}"


def test_no_payload_executes_after_the_pipeline(harness, settings, capsys):
    outputs = _outputs(settings)
    body = "\n".join(f'<div class="post" id="post-{i}">{output}</div>' for i, output in outputs)
    poked = harness.load(PAGE.format(body=body), real_clicks=150)
    assert poked > len(PAYLOADS), "the page did not contain the rendered corpus"

    # Liveness inside this very page: a control injected after the corpus must still be caught.
    harness.page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=alert(\"live\")>')")
    harness.page.wait_for_timeout(300)
    live = [report for report in harness.reports if report[2] == "live"]
    executed = [report for report in harness.reports if report[2] != "live"]
    assert live, "the harness no longer reports executions on this page"

    culprits: list[tuple[int, str]] = []
    if executed:  # name the payloads: each payload's outputs in a frame of their own
        grouped: dict[str, str] = {}
        for i, output in outputs:
            grouped[f"p{i:03d}"] = grouped.get(f"p{i:03d}", "") + f"<div>{output}</div>"
        bisect = Harness(harness.page.context.browser)
        try:
            bisect.load(_frames_page(grouped))
            names = sorted({name for _kind, name, _detail in bisect.reports if name in grouped})
        finally:
            bisect.close()
        culprits = [(int(name[1:]), PAYLOADS[int(name[1:])]) for name in names]
    with capsys.disabled():
        print(f"\nXSS corpus: {len(PAYLOADS)} payloads ({len(outputs)} rendered variants), {len(executed)} executed")
    assert not executed, f"executed: {executed}; culprits: {culprits}"


def test_raw_corpus_is_live_without_the_pipeline(harness, capsys):
    """Not a safety check: shows the corpus is made of payloads chromium really runs."""
    named = {f"p{i:03d}": payload for i, payload in enumerate(PAYLOADS)}
    harness.load(_frames_page(named))
    fired = {name for _kind, name, _detail in harness.reports if name in named}
    with capsys.disabled():
        print(f"\nXSS corpus, unsanitised, one iframe each: {len(fired)} of {len(named)} payloads executed")
    assert len(fired) >= 50
