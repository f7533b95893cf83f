"""Every feature's models, under the single app label ``portal_social``."""

from portal_social.core.models import (  # noqa: F401
    Access,
    AuditChainHead,
    AuditEvent,
    BreakGlassGrant,
    CaregiverRelation,
    CaregiverRelationGroupObjectPermission,
    CaregiverRelationUserObjectPermission,
)
