"""The example portal names a favicon that exists, so browsers stop asking for /favicon.ico in vain."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static


@pytest.mark.django_db
def test_every_page_links_the_portal_favicon(client, directory_page):
    html = client.get("/").content.decode()
    links = re.findall(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert links == [static("hospital/favicon.svg")]


def test_the_favicon_is_a_small_svg_without_script_or_style():
    path = finders.find("hospital/favicon.svg")
    assert path, "hospital/favicon.svg is not among the static files"
    with open(path, encoding="utf-8") as fh:
        svg = fh.read()
    assert svg.startswith("<svg") and len(svg) < 2048
    assert "<script" not in svg and "style" not in svg
