"""The form partials see only what their include passes: a page's own ``rows`` or ``kind`` never reaches them."""

from __future__ import annotations

import re
from pathlib import Path

from django.template import Context, Template

import portal_social

TEMPLATES = Path(portal_social.__file__).parent / "templates"
PARTIAL = re.compile(r'\{%\s*include\s+"portal_social/_(?:field|radios|check)\.html"[^%]*%\}')


def test_every_include_of_a_form_partial_is_isolated():
    loose = [
        f"{path.relative_to(TEMPLATES)}: {tag}"
        for path in TEMPLATES.rglob("*.html")
        for tag in PARTIAL.findall(path.read_text())
        if not tag.rstrip("%} ").endswith(" only")
    ]
    assert loose == []


def test_a_pages_own_rows_does_not_reach_the_textarea():
    from django import forms

    class Form(forms.Form):
        body = forms.CharField(widget=forms.Textarea)

    template = Template('{% include "portal_social/_field.html" with field=form.body kind="textarea" only %}')
    html = template.render(Context({"form": Form(), "rows": [{"message": "secret-id"}]}))
    assert 'rows="6"' in html and "secret-id" not in html
