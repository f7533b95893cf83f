from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def index(request):
    """Communities the member belongs to (signed-in members only)."""
    return render(request, "portal_social/community/index.html")
