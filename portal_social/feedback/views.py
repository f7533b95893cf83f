from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from portal_social.core import roles
from portal_social.core.views import role_required


@login_required
def index(request):
    """Where a patient or caregiver tells the health system how things went."""
    return render(request, "portal_social/feedback/index.html")


@role_required(roles.PATIENT_EXPERIENCE, roles.RISK_MANAGER)
def workspace(request):
    """The patient-experience workspace: staff with the role only, behind MFA."""
    return render(request, "portal_social/feedback/workspace.html")
