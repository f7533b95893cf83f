"""A page's title block is words only: the host's base template puts it inside ``<title>``, where markup
(a script, a link) is not markup at all but text read out as the page's name, and a script there never runs."""

from __future__ import annotations

import re
from pathlib import Path

import portal_social

TEMPLATES = Path(portal_social.__file__).resolve().parent / "templates"
TITLE_BLOCK = re.compile(r"\{%\s*block title\s*%\}(.*?)\{%\s*endblock(?:\s+title)?\s*%\}", re.S)
TAG = re.compile(r"\{[%{#].*?[%}#]\}", re.S)


def test_no_package_template_puts_markup_in_the_page_title():
    checked, found = 0, {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for block in TITLE_BLOCK.findall(path.read_text()):
            checked += 1
            if "<" in TAG.sub("", block):
                found[str(path.relative_to(TEMPLATES))] = block.strip()[:120]
    assert checked > 40, "too few title blocks found: is the pattern still right?"
    assert not found, f"markup inside {{% block title %}}: {found}"
