"""A small reader of this project's Dockerfile: stages, their ENV, USER, CMD and HEALTHCHECK."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def last(self, keyword: str) -> str | None:
        found = [arg for kw, arg in self.instructions if kw == keyword]
        return found[-1] if found else None


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    return lines


def read(path: Path) -> tuple[dict[str, str], dict[str, Stage]]:
    """Return the global ARG defaults and the stages by name (ENV inherited from parents)."""
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    stage: Stage | None = None
    for line in _logical_lines(path.read_text()):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and stage is None:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            match = re.fullmatch(r"(\S+)\s+AS\s+(\S+)", rest, flags=re.IGNORECASE)
            assert match, line
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], match.group(1))
            stage = Stage(match.group(2), base)
            if base in stages:
                stage.env.update(stages[base].env)
                stage.instructions.extend(stages[base].instructions)
            stages[stage.name] = stage
        else:
            assert stage is not None, line
            stage.instructions.append((keyword, rest))
            if keyword == "ENV":
                for pair in shlex.split(rest):
                    key, _, value = pair.partition("=")
                    stage.env[key] = value
    return args, stages


def exec_form(argument: str) -> list[str]:
    """The JSON array of a CMD, or of the CMD inside a HEALTHCHECK."""
    array = argument[argument.index("[") :]
    value = json.loads(array)
    assert isinstance(value, list)
    return [str(v) for v in value]
