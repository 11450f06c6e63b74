"""Problems found in rule files, their stable codes, and the exceptions a build stops with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Every code the checker may emit; rules/README.md has the same table for authors.
CODES: dict[str, str] = {
    "MC001": "the file cannot be read or is not UTF-8",
    "MC002": "the file is not valid YAML",
    "MC003": "YAML anchors, aliases, tags or duplicate keys are not allowed",
    "MC004": "the file is empty or not a mapping",
    "MC010": "a required field is missing",
    "MC011": "an unknown field",
    "MC012": "a field has the wrong type or value",
    "MC013": "the id does not match the file name",
    "MC014": "two rules share an id",
    "MC015": "an unknown section",
    "MC016": "a related rule id does not exist",
    "MC017": "a rule is not placed in its section's teaching order (rules/_sections.yaml)",
    "MC018": "a redirect of rules/_redirects.yaml is wrong",
    "MC019": "a concordance does not map an equation, or a cited equation is not mapped to the rule",
    "MC020": "an expression is not valid syntax",
    "MC021": "forbidden syntax in an expression",
    "MC022": "an undeclared name",
    "MC023": "an unsupported function or wrong arguments to one",
    "MC024": "shapes do not match",
    "MC025": "the derivative cannot be taken",
    "MC026": "an assumption does not fit the symbol's shape",
    "MC030": "hand-written LaTeX uses a command outside the whitelist",
    "MC040": "a field required for publishing is missing",
    "MC041": "a style rule of the guide is broken",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in CODES:  # a code nobody documented is a bug in the checker
            raise ValueError(f"unknown problem code {self.code}")

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


def display_path(path: Path) -> str:
    """The path as a user typed it relative to here, or absolute if outside."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class BuildFailed(Exception):
    """A build must stop: invalid input, a refuted or undecided rule, a failed tool.

    str() is the complete message for the user; no traceback is shown.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
