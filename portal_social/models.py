"""Every feature's models, under the single app label ``portal_social``."""

from portal_social.community.models import (  # noqa: F401
    Community,
    CommunityPage,
    CommunityProfile,
    MemberBadge,
    Membership,
    Mention,
    Penalty,
    Post,
    PostFile,
    PostFlag,
    PostRevision,
    Reaction,
    Thread,
    ThreadFollow,
    ThreadRead,
)
from portal_social.core.calendar_models import BusinessCalendar, CalendarClosure  # noqa: F401
from portal_social.core.models import (  # noqa: F401
    Access,
    AuditChainHead,
    AuditEvent,
    BreakGlassGrant,
    CaregiverRelation,
    CaregiverRelationGroupObjectPermission,
    CaregiverRelationUserObjectPermission,
    CareTeamLink,
)
from portal_social.core.moderation.models import ModerationItem, ModerationReason  # noqa: F401
from portal_social.core.notify.models import Notification, NotificationPreference  # noqa: F401
from portal_social.core.realtime_models import RealtimeEvent, RealtimeStream  # noqa: F401
from portal_social.core.screening.models import WatchedWord  # noqa: F401
from portal_social.core.search_models import SearchTerm  # noqa: F401
from portal_social.feedback.models import (  # noqa: F401
    Case,
    CaseAttachment,
    CaseCounter,
    CaseEvent,
    CasePause,
    Category,
    GrievanceResponse,
    IntakeKey,
    LetterTemplate,
    RecoveryAction,
    ResponseTemplate,
    RoutingRule,
    ServiceLine,
    Team,
    TeamMember,
)
from portal_social.messaging.models import (  # noqa: F401
    Attachment,
    CarePool,
    Conversation,
    Message,
    OutOfOffice,
    PoolMember,
    PoolPatient,
    ReadState,
)
from portal_social.profiles.invitation_models import InvitationOptOut, ReviewInvitation, Visit, VisitPull  # noqa: F401
from portal_social.profiles.models import (  # noqa: F401
    ClinicianIndexPage,
    ClinicianPage,
    Condition,
    Language,
    Location,
    Review,
    ReviewAppeal,
    ReviewRating,
    ReviewReport,
    ReviewResponse,
    Specialty,
)
