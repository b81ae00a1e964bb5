"""Who a run belongs to and how people mark it: its project, its owner and its tags.

Metaflow users know these as ``@project``, the namespace and tags; the Kubernetes namespace is
already a run's ``namespace`` here, so Metaflow's namespace is called the **owner**:

* **project**: a short name shared by the pipelines of one piece of work (``@pipeline(project=
  "fraud")``, or ``--project`` at run time): lower-case letters, digits and ``_``, starting
  with a letter, ending with a letter or a digit, at most 63 (`PROJECT_PATTERN`); so it is
  also a Kubernetes label value.
* **owner**: ``user:<name>`` for a person's runs (the name is ``ARGOSY_USER``, else the login
  name) or ``production`` (``--production``) for the runs a team relies on. Readers see the
  current user's runs unless asked for another owner's, or every owner's.
* **tags**: free text given at run time (``--tag``) and added or removed afterwards; a tag is
  1 to 255 characters, with no control character (newline, tab, ...) and no space at either
  end (`check_tag`).

Everything here is plain data and rules, used by the IR, the metadata shapes, the backends and
the command line alike.
"""

from __future__ import annotations

import getpass
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Final

from pydantic import AfterValidator

from argosy.errors import TagError

PROJECT_PATTERN = re.compile(r"^[a-z](?:[a-z0-9_]{0,61}[a-z0-9])?$")
"""Project names: like pipeline names, and a valid Kubernetes label value (no ``_`` at the end)."""
PRODUCTION = "production"
"""The owner of production runs (``--production``)."""
USER_PREFIX = "user:"
"""An owner that is a person: ``user:<name>``."""
MAX_TAG_LENGTH = 255
"""Characters in a tag (and in an owner)."""
MAX_TAGS = 100
"""Tags one run record or one change of tags carries."""
_RULE = (
    f"tags are 1 to {MAX_TAG_LENGTH} characters with no control character (newline, tab, ...) "
    "and no space at either end"
)


def check_project(project: str) -> str:
    """``project``, if it is a valid project name; TagError saying the rule otherwise."""
    if not PROJECT_PATTERN.match(project):
        raise TagError(
            f"project {project!r} is not a project name: use 1 to 63 lower-case letters, digits "
            "and _, starting with a letter and ending with a letter or digit (e.g. fraud_models)"
        )
    return project


def check_tag(tag: str) -> str:
    """``tag``, if it follows the tag rule; TagError naming what breaks it otherwise."""
    problem = _text_problem(tag)
    if problem is not None:
        raise TagError(f"tag {_shown(tag)} {problem}; {_RULE}")
    return tag


def check_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """``tags`` checked, each once, in the order given; TagError for the first bad one."""
    checked = tuple(dict.fromkeys(check_tag(tag) for tag in tags))
    if len(checked) > MAX_TAGS:
        raise TagError(f"{len(checked)} tags given; a run takes at most {MAX_TAGS} at once")
    return checked


def check_owner(owner: str) -> str:
    """``owner``, if it is ``production`` or ``user:<name>`` (the name follows the tag rule)."""
    if owner == PRODUCTION:
        return owner
    name = owner.removeprefix(USER_PREFIX)
    if name == owner:
        problem: str | None = "does not start with 'user:'"
    else:
        problem = "has no name after 'user:'" if not name else _text_problem(owner, name)
    if problem is not None:
        raise TagError(
            f"owner {_shown(owner)} {problem}; an owner is {PRODUCTION!r} or 'user:<name>' "
            f"(a name of 1 to {MAX_TAG_LENGTH - len(USER_PREFIX)} characters, no control "
            "character, no space at either end)"
        )
    return owner


def _shown(text: str) -> str:
    """``text`` quoted for a message, cut short when long."""
    return repr(text if len(text) <= 60 else f"{text[:57]}...")


def _text_problem(text: str, part: str | None = None) -> str | None:
    """What makes ``part`` of ``text`` (all of it by default) break the tag rule, if anything."""
    part = text if part is None else part
    if not part:
        return "is empty"
    if len(text) > MAX_TAG_LENGTH:
        return f"is {len(text)} characters long"
    bad = next((c for c in part if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        return f"holds the control character {bad!r}"
    if part != part.strip():
        return "starts or ends with a space"
    return None


def user_owner(user: str | None = None) -> str:
    """The owner of the current user's runs: ``user:<user>``, by default ``user:<login name>``.

    ``user`` is ``Settings.user`` (``ARGOSY_USER``); where neither it nor a login name is known
    (a container running as a uid with no name), ``user:uid-<uid>``.
    """
    if user is None:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no LOGNAME/USER and no passwd entry
            user = f"uid-{os.getuid()}"
    return check_owner(f"{USER_PREFIX}{user}")


class CurrentUser:
    """Where an owner is asked for: the current user's, ``user:<ARGOSY_USER or login name>``
    (the default scope of `argosy.Client`)."""

    def __repr__(self) -> str:
        return "CURRENT_USER"


CURRENT_USER: Final = CurrentUser()


@dataclass(frozen=True)
class Ownership:
    """A run's project, owner and tags, as it starts."""

    project: str | None = None
    owner: str | None = None
    tags: tuple[str, ...] = ()


def resolve_ownership(
    pipeline_project: str | None,
    *,
    user: str | None,
    project: str | None = None,
    tags: Iterable[str] = (),
    production: bool = False,
) -> Ownership:
    """What a new run gets: ``project`` over the pipeline's own, owner ``production`` when
    asked else the current user's (``user``, see `user_owner`), and ``tags`` checked.

    TagError for a bad project or tag, before anything runs.
    """
    chosen = project or pipeline_project
    return Ownership(
        project=None if chosen is None else check_project(chosen),
        owner=PRODUCTION if production else user_owner(user),
        tags=check_tags(tags),
    )


ProjectName = Annotated[str, AfterValidator(check_project)]
"""A project name in a pydantic model (a bad one is a validation error, a 422 in the service)."""
OwnerName = Annotated[str, AfterValidator(check_owner)]
"""An owner in a pydantic model."""
Tag = Annotated[str, AfterValidator(check_tag)]
"""A tag in a pydantic model."""


__all__ = [
    "CURRENT_USER",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "PRODUCTION",
    "PROJECT_PATTERN",
    "USER_PREFIX",
    "CurrentUser",
    "OwnerName",
    "Ownership",
    "ProjectName",
    "Tag",
    "check_owner",
    "check_project",
    "check_tag",
    "check_tags",
    "resolve_ownership",
    "user_owner",
]
