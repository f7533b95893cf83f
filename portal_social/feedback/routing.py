"""Where a new case goes: a team and an owner, by routing rules, with a fallback queue.

1. A case with medical risk goes to the risk-management team.
2. Otherwise the first active rule (by ``position``) whose site, service
   line, category and minimum severity all match names the team, and
   perhaps the owner.
3. Nothing matches: the fallback team (``Team.fallback``), if any.

Within a team the owner is, in order: the rule's owner (while they are an
active member); the owner of the patient's most recent case when they are
still a member who takes cases (sticky: a repeat patient keeps their
contact); else the member taking cases with the fewest open cases (fair),
the earliest account first on a tie. A team nobody takes cases in
leaves the case unowned, in the team's queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from portal_social.feedback.models import SEVERITY_RANK, Case, RoutingRule, Team, TeamMember


@dataclass(frozen=True)
class Route:
    team: Team | None
    owner_id: int | None
    rule: RoutingRule | None
    reason: str  # "risk", "rule", "fallback", "none"


def _matches(rule: RoutingRule, case: Case, category_ids: set[int]) -> bool:
    if rule.site_id and rule.site_id != case.site_id:
        return False
    if rule.service_line_id and rule.service_line_id != case.service_line_id:
        return False
    if rule.category_id and rule.category_id not in category_ids:
        return False
    return not (rule.min_severity and SEVERITY_RANK[case.severity] < SEVERITY_RANK[rule.min_severity])


def _members(team: Team):
    return TeamMember.objects.filter(team=team, takes_cases=True, user__is_active=True)


def pick_owner(team: Team, case: Case) -> int | None:
    """The member of ``team`` who should own ``case``: sticky for a repeat patient, else fewest open cases."""
    members = _members(team)
    if case.patient_id is not None:
        last = (
            Case.objects.filter(patient_id=case.patient_id, owner__isnull=False)
            .exclude(pk=case.pk)
            .order_by("-received_at")
            .values_list("owner_id", flat=True)
            .first()
        )
        if last is not None and members.filter(user_id=last).exists():
            return last
    open_cases = Count("user__owned_cases", filter=Q(user__owned_cases__status__in=Case.OPEN_STATUSES))
    # On a tie, the earliest account first (membership ids are random UUIDs, so they cannot order a tie).
    chosen = members.annotate(load=open_cases).order_by("load", "user_id").values_list("user_id", flat=True).first()
    return chosen


def risk_team() -> Team | None:
    return Team.objects.filter(risk_management=True, active=True).order_by("name").first()


def route(case: Case, category_ids: set[int] | None = None) -> Route:
    """Decide the team and owner for ``case`` (its categories given, or read)."""
    if case.medical_risk:
        team = risk_team()
        if team is not None:
            return Route(team, pick_owner(team, case), None, "risk")
    if category_ids is None:
        category_ids = set(case.categories.values_list("pk", flat=True)) if case.pk else set()
    for rule in RoutingRule.objects.filter(active=True, team__active=True).select_related("team"):
        if _matches(rule, case, category_ids):
            owner = rule.owner_id
            if owner is not None and not _members(rule.team).filter(user_id=owner).exists():
                owner = None
            return Route(rule.team, owner or pick_owner(rule.team, case), rule, "rule")
    fallback = Team.objects.filter(fallback=True, active=True).order_by("name").first()
    if fallback is not None:
        return Route(fallback, pick_owner(fallback, case), None, "fallback")
    return Route(None, None, None, "none")
