from django.shortcuts import render


def directory(request):
    """The clinician directory: public, no PHI."""
    return render(request, "portal_social/profiles/directory.html")
