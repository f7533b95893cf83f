"""Riverside Health's adapter: where a real hospital would call its EHR."""

from portal_social.adapter import PortalAdapter


class RiversideAdapter(PortalAdapter):
    """Uses the defaults, but for the mobile numbers texts go to; a real host would override ``is_eligible``
    here too."""

    def sms_number(self, user):
        from hospital.models import MobileNumber

        return MobileNumber.objects.filter(user_id=getattr(user, "pk", None)).values_list("number", flat=True).first()
