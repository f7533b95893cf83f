from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def inbox(request):
    """The signed-in person's secure conversations."""
    return render(request, "portal_social/messaging/inbox.html")
