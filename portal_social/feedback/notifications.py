"""The notifications feedback sends: that something happened, never what anyone wrote or who it is about."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal_social.core.notify import OPAQUE_ID, Template, register

_CASE = {"case": OPAQUE_ID}
_CASE_URL = {"case_id": "case"}

register(
    Template(
        key="feedback.received",
        subject=_("We received your feedback"),
        body=_("Thank you for telling us. Your feedback reached our patient experience team. Sign in to follow it."),
        url_name="portal_social_feedback:case",
        params=_CASE,
        url_kwargs=_CASE_URL,
    )
)
register(
    Template(
        key="feedback.acknowledged",
        subject=_("Your feedback is being looked into"),
        body=_("A member of our patient experience team is looking into your feedback. Sign in to follow it."),
        url_name="portal_social_feedback:case",
        params=_CASE,
        url_kwargs=_CASE_URL,
    )
)
register(
    Template(
        key="feedback.resolved",
        subject=_("How did we do?"),
        body=_(
            "Our patient experience team has finished looking into your feedback. Sign in to read the outcome "
            "and tell us, in one click, how well we put things right."
        ),
        url_name="portal_social_feedback:case",
        params=_CASE,
        url_kwargs=_CASE_URL,
    )
)
register(
    Template(
        key="feedback.assigned",
        subject=_("A feedback case was assigned to you"),
        body=_("A patient feedback case is now yours. Sign in to the patient experience workspace to work it."),
        url_name="portal_social_px:case",
        params=_CASE,
        url_kwargs=_CASE_URL,
    )
)
register(
    Template(
        key="feedback.risk",
        subject=_("A feedback case needs risk management"),
        body=_(
            "A patient feedback case may involve medical risk and was sent to risk management. "
            "Sign in to the patient experience workspace to review it."
        ),
        url_name="portal_social_px:case",
        params=_CASE,
        url_kwargs=_CASE_URL,
        mandatory=True,
    )
)
register(
    Template(
        key="feedback.breach",
        subject=_("A feedback case missed its deadline"),
        body=_(
            "A patient feedback case your team owns has missed a service deadline and joined the escalation "
            "queue. Sign in to the patient experience workspace."
        ),
        url_name="portal_social_px:case",
        params=_CASE,
        url_kwargs=_CASE_URL,
    )
)
register(
    Template(
        key="feedback.on_site",
        subject=_("A patient at your site asked for help now"),
        body=_(
            "A patient or visitor at a site you are on duty for sent feedback and says they are there now. "
            "Sign in to the patient experience workspace and respond."
        ),
        url_name="portal_social_px:case",
        params=_CASE,
        url_kwargs=_CASE_URL,
        mandatory=True,
    )
)
register(
    Template(
        key="feedback.digest",
        subject=_("Feedback: the numbers for the last %(days)s days"),
        body=_(
            "In the last %(days)s days: %(received)s cases received and %(resolved)s resolved. "
            "%(acknowledged_on_time)s of %(acknowledge_due)s were acknowledged on time and %(resolved_on_time)s of "
            "%(resolve_due)s resolved on time. Open now: %(open)s, of which %(overdue)s are overdue. "
            "Sign in to the reports for the detail."
        ),
        url_name="portal_social_px:reports",
        params={
            "days": int,
            "received": int,
            "resolved": int,
            "acknowledged_on_time": int,
            "acknowledge_due": int,
            "resolved_on_time": int,
            "resolve_due": int,
            "open": int,
            "overdue": int,
        },
    )
)
