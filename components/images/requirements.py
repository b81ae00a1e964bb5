"""Print the pip requirements one of Argosy's images installs, read from pyproject.toml.

    python requirements.py base|components [PYPROJECT]

The components image adds the scientific stack (`SCIENTIFIC`) to the base image, which holds
every other dependency of the distribution. Standard library only: it runs in an image build
before anything is installed.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

SCIENTIFIC = frozenset({"scipy", "scikit-learn", "numba"})
"""Distributions only the components image installs."""


def requirements(image: str, pyproject: Path) -> list[str]:
    """The dependencies of the distribution that image ``image`` installs."""
    if image not in {"base", "components"}:
        raise SystemExit(f"unknown image {image!r}: choose base or components")
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    wanted = image == "components"
    return [
        requirement for requirement in dependencies if (_name(requirement) in SCIENTIFIC) == wanted
    ]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return re.sub(r"[-_.]+", "-", match[0]).lower() if match else requirement


if __name__ == "__main__":
    image, *rest = sys.argv[1:] or ["base"]
    pyproject = Path(rest[0]) if rest else Path(__file__).resolve().parents[2] / "pyproject.toml"
    print("\n".join(requirements(image, pyproject)))
