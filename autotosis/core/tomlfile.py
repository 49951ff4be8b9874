"""Reading the hand-edited TOML files (labels, project config) with one error format."""

from __future__ import annotations

from pathlib import Path

import tomlkit
from tomlkit.exceptions import ParseError

from autotosis.core.errors import AutotosisError


def parse_toml(text: str, path: Path, error: type[AutotosisError]) -> dict:
    """Plain data of a TOML text; `error` "file:line: invalid TOML (...)" so the user can find the mistake."""
    try:
        return tomlkit.parse(text).unwrap()
    except ParseError as exc:
        raise error(f"{path}:{exc.line}: invalid TOML ({str(exc).split(' at line')[0]})") from None
