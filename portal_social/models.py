"""Every feature's models, under the single app label ``portal_social``."""

from portal_social.core.models import Access, CaregiverRelation  # noqa: F401
