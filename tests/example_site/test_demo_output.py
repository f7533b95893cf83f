"""`make demo` leaves the demo logins on screen as the last lines before it starts serving."""

from pathlib import Path

import pytest
from django.core.management import call_command

from hospital.management.commands.seed_demo import DEMO_USERS

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"


def _demo_recipe() -> list[str]:
    lines = MAKEFILE.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("demo:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line[1:])
    return recipe


def test_make_demo_echoes_no_command_and_seeds_last_before_serving():
    commands = [line for line in _demo_recipe() if not line.startswith(" ")]  # continuation lines excluded
    # Make echoes a recipe line unless it starts with "@"; an echoed command would follow the logins.
    assert all(line.startswith("@") for line in commands), commands
    seed = next(i for i, line in enumerate(commands) if "manage.py seed_demo" in line)
    after = [line for line in commands[seed + 1 :] if not line.startswith("@#")]
    # Only the serving command (the task worker and daphne) follows the seed, and it prints nothing itself.
    assert len(after) == 1 and "db_worker" in after[0], after
    assert "daphne" in "\n".join(_demo_recipe()).split("manage.py seed_demo", 1)[1]
    assert "echo" not in "\n".join(_demo_recipe()).split("manage.py seed_demo", 1)[1]


@pytest.mark.django_db
def test_seed_demo_ends_with_the_logins_and_the_password(capsys):
    call_command("seed_demo", "--password", "demo-pass-for-test")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "Password for every demo user: demo-pass-for-test"
    listed = [line.split()[0] for line in lines[-1 - len(DEMO_USERS) : -1]]
    assert listed == list(DEMO_USERS)
    assert lines[-2 - len(DEMO_USERS)].startswith("Sign in at http://127.0.0.1:8000/accounts/login/")
