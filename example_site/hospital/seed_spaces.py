"""Demo data for clinician spaces: a cardiology case review (case discussion permitted) and a general
medical-staff space, with their members and threads.

Threads are written through the community actions, screened and audited like any other; a second run of
``seed_demo`` finds them and writes nothing twice.
"""

from __future__ import annotations

import uuid

#: slug: (name, description, case discussion, owner, other members)
SPACES = {
    "cardiology-case-review": (
        "Cardiology case review",
        "Difficult cases, second opinions and referrals for the cardiology service. Case discussion is "
        "permitted here: every reading of a thread is recorded.",
        True,
        "clinician1",
        ("clinician2", "nurse1"),
    ),
    "medical-staff": (
        "Medical staff",
        "News, protocols and rotas for everyone on the medical staff. Not for patient cases.",
        False,
        "clinician1",
        ("clinician2", "nurse1"),
    ),
}
HANDLES = {"clinician1": "dr_raman", "clinician2": "dr_okafor", "nurse1": "grace_rn"}
#: space, key, author, title, opening post, patient reference, [(key, author, reply)]
THREADS = [
    (
        "cardiology-case-review",
        "troponin",
        "clinician2",
        "Rising troponin after an uncomplicated PCI",
        "Case for your views: 67-year-old, MRN 40817265, PCI to the LAD on Monday, troponin rising on day 2 "
        "with no new symptoms and an unchanged ECG. Would you repeat the angiogram or watch?",
        "40817265",
        [
            (
                "watch",
                "clinician1",
                "I would repeat the echo first. If the wall motion is unchanged, watch and recheck in 6 hours.",
            ),
            ("nursing", "nurse1", "Noted for the ward round: repeat troponin at 18:00 and call if it rises again."),
        ],
    ),
    (
        "medical-staff",
        "protocol",
        "clinician1",
        "New anticoagulation protocol from 1 December",
        "The updated protocol is on the intranet. The main change: bridging is no longer routine before "
        "minor procedures. Questions here, please.",
        "",
        [("rota", "clinician2", "Thanks. Will the pharmacy team brief the wards before it starts?")],
    ),
]


#: Threads posted as announcements (pinned, and every member of the space is told).
ANNOUNCEMENTS = {("medical-staff", "protocol")}
#: space, thread key, file name, the PDF's text: shared with the thread's opening post (the demo's shared file).
FILES = [
    (
        "medical-staff",
        "protocol",
        "anticoagulation-protocol-december.pdf",
        "Anticoagulation protocol, from 1 December\n\nBridging is no longer routine before minor procedures. "
        "Check the procedure list in section 3 and ask pharmacy when in doubt.",
    ),
]


#: space, key, author, specialty, urgency, question title, question, patient reference: left open for the demo.
REFERRALS = [
    (
        "cardiology-case-review",
        "electrophysiology",
        "nurse1",
        "Cardiology",
        "soon",
        "Ablation opinion for recurrent atrial flutter",
        "Could an electrophysiologist see a patient with recurrent atrial flutter after two cardioversions? "
        "MRN 40822190. Anticoagulated, stable, keen to avoid a third cardioversion.",
        "40822190",
    ),
]


def _token(key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "portal-social-demo:spaces:" + key)


def _files(slug: str, key: str) -> list:
    """The demo files shared with thread ``key`` of space ``slug`` (a PDF written by ``core.pdf``)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal_social.core.pdf import text_pdf

    return [
        SimpleUploadedFile(name, text_pdf(text, title=name), content_type="application/pdf")
        for space, thread, name, text in FILES
        if (space, thread) == (slug, key)
    ]


def seed_spaces(users) -> None:
    from portal_social.community import actions, rules
    from portal_social.community.actions import spaces as space_actions
    from portal_social.community.models import Community, CommunityProfile, Membership

    for username, handle in HANDLES.items():
        if not CommunityProfile.objects.filter(user=users[username]).exists():
            actions.set_handle(user=users[username], handle=handle)
    spaces = {}
    for slug, (name, description, case_discussion, owner, members) in SPACES.items():
        space, _created = Community.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "description": description, "kind": Community.Kind.SPACE},
        )
        if space.phi_permitted != case_discussion:
            space.phi_permitted = case_discussion
            space.save(update_fields=["phi_permitted"])
        Membership.objects.update_or_create(
            community=space,
            user=users[owner],
            defaults={"role": Membership.Role.OWNER, "status": Membership.Status.ACTIVE},
        )
        rules.forget_moderated(users[owner])  # what earlier demo steps remembered of their roles is out of date
        for username in members:
            if not Membership.objects.filter(community=space, user=users[username], status="active").exists():
                space_actions.add_member(actor=users[owner], space=space, user=users[username])
        spaces[slug] = space
    for slug, key, author, title, body, reference, replies in THREADS:
        opening = actions.start_thread(
            author=users[author],
            community=spaces[slug],
            title=title,
            body=body,
            confirm_phi=True,  # the case space permits it; the staff space's text has none
            submission=_token(f"{slug}:{key}"),
            patient_reference=reference,
            files=_files(slug, key),
            announcement=(slug, key) in ANNOUNCEMENTS,
        )
        for reply_key, reply_author, text in replies:
            actions.reply(
                author=users[reply_author],
                thread=opening.thread,
                body=text,
                submission=_token(f"{slug}:{key}:{reply_key}"),
            )

    from portal_social.profiles.models import Specialty

    for slug, key, author, specialty, urgency, title, body, reference in REFERRALS:
        asked, _created = Specialty.objects.get_or_create(name=specialty, defaults={"slug": specialty.lower()})
        actions.start_thread(
            author=users[author],
            community=spaces[slug],
            title=title,
            body=body,
            confirm_phi=True,
            submission=_token(f"{slug}:referral:{key}"),
            patient_reference=reference,
            referral={"specialty": asked, "urgency": urgency},
        )
