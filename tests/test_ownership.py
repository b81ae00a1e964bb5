"""The rules of projects, owners and tags, and what a new run gets (`argosy.ownership`)."""

from __future__ import annotations

import getpass
import os

import pytest

from argosy.config import Settings
from argosy.errors import TagError
from argosy.ownership import (
    MAX_TAGS,
    PRODUCTION,
    Ownership,
    check_owner,
    check_project,
    check_tag,
    check_tags,
    resolve_ownership,
    user_owner,
)


@pytest.mark.parametrize(
    "tag", ["nightly", "dataset:v2", "Best model (v3)", "日本語", "x" * 255, "a b", 'say "hi"']
)
def test_good_tags(tag: str) -> None:
    assert check_tag(tag) == tag


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        ("", "is empty"),
        ("x" * 256, "is 256 characters long"),
        ("two\nlines", "control character '\\n'"),
        ("tab\there", "control character '\\t'"),
        ("bell\x07", "control character"),
        ("lone \ud800", "control character"),
        (" padded", "starts or ends with a space"),
        ("padded ", "starts or ends with a space"),
    ],
)
def test_bad_tags_say_what_is_wrong_and_the_rule(tag: str, problem: str) -> None:
    with pytest.raises(TagError, match="tags are 1 to 255 characters") as raised:
        check_tag(tag)
    assert problem in str(raised.value)
    assert isinstance(raised.value, ValueError)  # so pydantic reports it as a validation error


def test_check_tags_keeps_each_tag_once_in_order_and_caps_the_count() -> None:
    assert check_tags(["b", "a", "b"]) == ("b", "a")
    assert check_tags([]) == ()
    with pytest.raises(TagError, match=f"at most {MAX_TAGS}"):
        check_tags([f"t{n}" for n in range(MAX_TAGS + 1)])
    with pytest.raises(TagError, match="is empty"):
        check_tags(["ok", ""])


@pytest.mark.parametrize("project", ["fraud", "fraud_models", "a", "p2", "a" * 63])
def test_good_projects(project: str) -> None:
    assert check_project(project) == project


@pytest.mark.parametrize("project", ["", "Fraud", "fraud_", "2fraud", "fraud-models", "a" * 64])
def test_bad_projects(project: str) -> None:
    with pytest.raises(TagError, match="is not a project name: use 1 to 63 lower-case"):
        check_project(project)


@pytest.mark.parametrize("owner", ["production", "user:alice", "user:alice@corp.com", "user:Jo Do"])
def test_good_owners(owner: str) -> None:
    assert check_owner(owner) == owner


@pytest.mark.parametrize(
    ("owner", "problem"),
    [
        ("alice", "does not start with 'user:'"),
        ("Production", "does not start with 'user:'"),
        ("user:", "has no name after 'user:'"),
        ("user: alice", "starts or ends with a space"),
        ("user:a\nb", "control character"),
        ("user:" + "x" * 251, "is 256 characters long"),
    ],
)
def test_bad_owners(owner: str, problem: str) -> None:
    with pytest.raises(TagError, match="an owner is 'production' or 'user:<name>'") as raised:
        check_owner(owner)
    assert problem in str(raised.value)


def test_the_current_user_is_argosy_user_else_the_login_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARGOSY_USER", "carol")
    assert user_owner(Settings().user) == "user:carol"
    assert user_owner(None) == f"user:{getpass.getuser()}"

    def nobody() -> str:
        raise OSError("No username set in the environment")

    monkeypatch.setattr(getpass, "getuser", nobody)
    assert user_owner(None) == f"user:uid-{os.getuid()}"  # a container's nameless uid
    with pytest.raises(TagError, match="owner 'user: x'"):
        user_owner(" x")


def test_a_new_run_gets_the_given_project_over_the_pipelines_and_an_owner() -> None:
    assert resolve_ownership(None, user="alice") == Ownership(None, "user:alice", ())
    assert resolve_ownership("fraud", user="alice", tags=["a", "a", "b"]) == Ownership(
        "fraud", "user:alice", ("a", "b")
    )
    chosen = resolve_ownership("fraud", user="alice", project="churn", production=True)
    assert chosen == Ownership("churn", PRODUCTION, ())
    with pytest.raises(TagError, match="project 'Churn'"):
        resolve_ownership("fraud", user="alice", project="Churn")
    with pytest.raises(TagError, match="tag 'bad\\\\n'"):
        resolve_ownership(None, user="alice", tags=["bad\n"])
