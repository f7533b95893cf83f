"""A host installs the wheel and gets the migrations with no extra setting.

Builds the wheel, installs it into a fresh virtualenv outside the checkout,
and runs ``migrate`` and ``makemigrations --check`` there against a minimal
host project configured as docs/installation.md says.
"""

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]

HOST_SETTINGS = textwrap.dedent(
    """
    SECRET_KEY = "host-test-secret-key-that-is-long-enough-for-django-0123456789"
    DEBUG = False
    ALLOWED_HOSTS = ["localhost"]
    ROOT_URLCONF = "host_urls"
    INSTALLED_APPS = [
        "daphne", "portal_social",
        "wagtail.contrib.routable_page", "wagtail.sites", "wagtail.users", "wagtail.snippets",
        "wagtail.documents", "wagtail.images",
        "wagtail.search", "wagtail.admin", "wagtail", "modelcluster", "taggit",
        "allauth", "allauth.account", "allauth.mfa", "allauth.socialaccount",
        "guardian", "channels", "django_tasks", "django_tasks_db",
        "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
        "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    ]
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "allauth.account.middleware.AccountMiddleware",
        "portal_social.core.middleware.NoStoreMiddleware",
        "portal_social.core.middleware.SessionTimeoutMiddleware",
        "portal_social.core.middleware.StaffMFAMiddleware",
    ]
    AUTHENTICATION_BACKENDS = [
        "portal_social.core.accounts.FrontDoorBackend",
        "guardian.backends.ObjectPermissionBackend",
    ]
    ACCOUNT_ADAPTER = "portal_social.core.accounts.PortalAccountAdapter"
    TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                  "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                      "django.contrib.auth.context_processors.auth",
                                                      "django.contrib.messages.context_processors.messages"]}}]
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "host.sqlite3"}}
    STATIC_URL = "/static/"
    USE_TZ = True
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    MFA_ADAPTER = "portal_social.core.mfa.PortalMFAAdapter"
    WAGTAILADMIN_LOGIN_URL = "account_login"
    SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    LOGIN_URL = "account_login"
    PORTAL_SOCIAL_ENCRYPTION_KEYS = ["dGhpcy1pcy1hLXRlc3Qtb25seS1rZXktMzItYnl0ZXM="]
    SILENCED_SYSTEM_CHECKS = ["portal_social.W002"]
    """
)

HOST_URLS = textwrap.dedent(
    """
    from django.urls import include, path

    urlpatterns = [path("accounts/", include("allauth.urls")), path("", include("portal_social.urls"))]
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # setuptools writes build/ and *.egg-info inside the source tree: two
    # pytest-xdist workers building at once would trip over each other.
    lock_path = Path(tempfile.gettempdir()) / f"portal-social-build-{hashlib.sha256(bytes(ROOT)).hexdigest()[:12]}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert result.returncode == 0, f"pip wheel failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    [built] = out.glob("portal_social-*.whl")
    return built


def test_wheel_ships_migrations_templates_and_no_example_site(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "portal_social/migrations/0001_initial.py" in names
    assert "portal_social/migrations/0002_roles.py" in names
    assert "portal_social/templates/portal_social/base.html" in names
    assert "portal_social/templates/portal_social/messaging/inbox.html" in names
    assert not any(name.startswith(("example_site", "hospital", "tests", "migrations/")) for name in names)


def test_wheel_installed_in_fresh_venv_migrates_with_no_extra_setting(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # Dependencies come from the test environment's site-packages, appended
    # after the fresh venv's own, so portal_social itself is the wheel's copy.
    site = next((venv / "lib").glob("python3*/site-packages"))
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "zz_test_dependencies.pth").write_text("\n".join(deps) + "\n")

    host = tmp_path / "host"
    host.mkdir()
    (host / "host_settings.py").write_text(HOST_SETTINGS)
    (host / "host_urls.py").write_text(HOST_URLS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON", "DATABASE_URL", "REDIS_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "host_settings", "PYTHONPATH": str(host)})

    def django_admin(*args):
        result = subprocess.run(
            [str(python), "-m", "django", *args], cwd=host, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    where = subprocess.run(
        [str(python), "-c", "import portal_social.migrations as m; print(m.__file__)"],
        cwd=host,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(venv)), where
    assert str(ROOT) not in where

    django_admin("check")
    django_admin("migrate", "--noinput", "-v", "0")
    django_admin("makemigrations", "--check", "--dry-run")
    out = django_admin("showmigrations", "portal_social")
    assert "[X] 0001_initial" in out
    assert "[X] 0002_roles" in out


def test_wheel_ships_every_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {str(p.relative_to(ROOT)) for p in (ROOT / "portal_social" / "templates").rglob("*.html")}
    assert templates and templates <= names


def test_every_folder_of_the_package_is_declared_so_setuptools_builds_without_warnings():
    """A folder setuptools finds but the configuration does not list gives a
    warning on every build (and its files may be left out); so does a licence
    classifier beside the SPDX licence expression."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    declared = {line.strip() for line in config["options"]["packages"].splitlines() if line.strip()}
    found = {
        ".".join(folder.relative_to(ROOT).parts)
        for folder in [ROOT / "portal_social", *(ROOT / "portal_social").rglob("*")]
        if folder.is_dir() and folder.name != "__pycache__" and any(p.is_file() for p in folder.iterdir())
    }
    assert found - declared == set()
    assert not [c for c in config["metadata"]["classifiers"].splitlines() if c.strip().startswith("License ::")]
