from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from portal_social.core.staff_area import staff_area

# One front door: every sign-in goes through allauth, which enforces MFA,
# lockout and rate limits. The admin sites' own login forms, and the sign-in
# form Wagtail serves for restricted pages, send people there instead.
# (Even if one were reachable, FrontDoorBackend refuses passwords outside
# allauth, and staff pages ask for this session's second factor.)
# staff_area() answers signed-in users without admin access with one "this
# area is for staff" page instead of Wagtail's redirect to the sign-in form,
# which would send them straight back.
admin.site.login = secure_admin_login(admin.site.login)
to_front_door = RedirectView.as_view(pattern_name="account_login", query_string=True)

urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("cms/login/", to_front_door),
    path("_util/login/", to_front_door),
    path("cms/", include(staff_area(wagtailadmin_urls))),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("allauth.urls")),
    path("", include("portal_social.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
