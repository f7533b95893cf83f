"""Riverside Health's adapter: where a real hospital would call its EHR."""

from portal_social.adapter import PortalAdapter


class RiversideAdapter(PortalAdapter):
    """Uses the defaults; a real host would override ``is_eligible`` here."""
