"""The approval workflow for clinicians' own profile edits."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from wagtail.models import GroupApprovalTask, GroupPagePermission, Workflow, WorkflowPage, WorkflowTask

from portal_social.core import roles
from portal_social.profiles.models import ClinicianIndexPage

WORKFLOW_NAME = "Clinician profile approval"
TASK_NAME = "Approve clinician profile changes"


def ensure_profile_workflow(directory: ClinicianIndexPage, approver_role: str = roles.PORTAL_ADMINISTRATOR) -> Workflow:
    """Assign an approval workflow to ``directory`` whose approvers hold ``approver_role``.

    Idempotent. Approvers get permission to edit and publish pages under the
    directory in the Wagtail admin; clinicians get none there, so the only
    way they change a page is their own self-service form.
    """
    group = roles._role_group(roles.ROLES[approver_role])
    task, _ = GroupApprovalTask.objects.get_or_create(name=TASK_NAME)
    task.groups.add(group)
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    # Through the model itself: the cluster relation manager would only keep it in memory.
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    WorkflowPage.objects.update_or_create(page=directory, defaults={"workflow": workflow})
    for codename in ("add_page", "change_page", "publish_page"):
        permission = Permission.objects.get(content_type__app_label="wagtailcore", codename=codename)
        GroupPagePermission.objects.get_or_create(group=group, page=directory, permission=permission)
    return workflow
