"""Sphinx configuration for the portal_social documentation.

The build does not import Django or portal_social (no autodoc), so it needs no
Django settings module and no database:

    sphinx-build -W --keep-going -q -b html docs docs/_build/html
"""

project = "portal_social"
author = "portal_social contributors"
copyright = "portal_social contributors"
release = "0.1.0"
version = "0.1"

extensions = ["myst_parser"]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Headings up to level 3 get anchors, so pages can link to sections:
# [text](security.md#multi-factor-authentication-for-staff).
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = "portal_social documentation"
