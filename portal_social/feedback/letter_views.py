"""A grievance's written response: ``/px/c/<uuid>/letter/`` (form and printable preview) and ``letter.pdf``.

PX staff only, like the rest of the workspace; a medical-risk case is the
risk managers' (other PX staff get 404, as for anything they may not read).
Opening the letter or its PDF is a PHI read (``access.require(user, "view",
case)``). A case that is not a grievance, or a PDF asked for before the
response is written, answers 409 with a page saying what to do first.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from portal_social.adapter import get_adapter
from portal_social.core import access
from portal_social.core.errors import Denied
from portal_social.core.pdf import text_pdf
from portal_social.feedback import actions, rules
from portal_social.feedback.forms import LetterForm
from portal_social.feedback.models import Case, GrievanceResponse, LetterTemplate
from portal_social.feedback.view_access import case_for, small_int, staff_only

_TEMPLATE = "portal_social/feedback/px/letter.html"


def _loaded(request, case_id) -> Case:
    """The case, or 404 for one the reader may not read (unknown, or medical risk for other PX staff)."""
    found = case_for(request, case_id)
    if rules.restricted(request.user, found):
        raise Http404()
    return found


def _refused(request, found: Case, message: str) -> HttpResponse:
    return render(request, _TEMPLATE, {"case": found, "refused": message}, status=409)


def _not_grievance(request, found: Case) -> HttpResponse:
    return _refused(
        request,
        found,
        gettext("Only a grievance gets a written response. Classify the case as a grievance on its page first."),
    )


def _templates():
    return list(LetterTemplate.objects.values_list("pk", "name"))


def _initial(request, response: GrievanceResponse | None) -> dict:
    if response is not None:
        return {
            "contact_person": response.contact_person,
            "steps": response.steps,
            "results": response.results,
            "completed_on": response.completed_on,
            "template": str(response.template_id or ""),
        }
    return {"contact_person": get_adapter(request).display_name(request.user), "completed_on": timezone.localdate()}


@staff_only
def letter(request, case_id):
    """The written response's four parts, which wording to use, and a printable preview of the letter."""
    found = _loaded(request, case_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if found.type != Case.Type.GRIEVANCE:
        return _not_grievance(request, found)
    response = GrievanceResponse.objects.filter(case=found).select_related("template").first()
    templates = _templates()
    form = LetterForm(initial=_initial(request, response), templates=templates)
    sent_error = ""
    if request.method == "POST":
        if request.POST.get("what") == "sent":
            try:
                actions.mark_letter_sent(actor=request.user, case=found, request=request)
            except ValidationError as error:
                sent_error = " ".join(error.messages)
            except Denied as refused:
                sent_error = refused.message
            else:
                return HttpResponseRedirect(reverse("portal_social_px:letter", args=[found.pk]) + "?done=sent")
        else:
            form = LetterForm(request.POST, templates=templates)
            if form.is_valid():
                data = form.cleaned_data
                pk = small_int(data["template"])
                try:
                    actions.write_grievance_response(
                        actor=request.user,
                        case=found,
                        contact_person=data["contact_person"],
                        steps=data["steps"],
                        results=data["results"],
                        completed_on=data["completed_on"],
                        template=LetterTemplate.objects.filter(pk=pk).first() if pk is not None else None,
                        request=request,
                    )
                except ValidationError as error:
                    form.add_action_errors(error)
                except Denied as refused:
                    form.add_error(None, refused.message)
                else:
                    return HttpResponseRedirect(reverse("portal_social_px:letter", args=[found.pk]) + "?done=saved")
    found = access.require(request.user, "view", found, request=request)
    context = {
        "case": found,
        "form": form,
        "response": response,
        "preview": actions.render_letter(found, response) if response is not None else "",
        "sent_error": sent_error,
        "done": request.GET.get("done", ""),
    }
    return render(request, _TEMPLATE, context, status=400 if form.errors or sent_error else 200)


@staff_only
def letter_pdf(request, case_id):
    """The letter as a PDF to print or file: an attachment named by the case reference, never cached."""
    found = _loaded(request, case_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    if found.type != Case.Type.GRIEVANCE:
        return _not_grievance(request, found)
    response = GrievanceResponse.objects.filter(case=found).select_related("template").first()
    if response is None:
        return _refused(request, found, gettext("Write the response first: the letter is made from it."))
    found = access.require(request.user, "view", found, request=request)
    body = text_pdf(actions.render_letter(found, response), title=found.reference)
    answer = HttpResponse(body, content_type="application/pdf")
    answer["Content-Disposition"] = f'attachment; filename="{found.reference}.pdf"'
    answer["Cache-Control"] = "no-store"
    return answer


__all__ = ["letter", "letter_pdf"]
