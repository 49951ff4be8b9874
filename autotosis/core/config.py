"""Project configuration: `autotosis.toml` in the project folder.

```toml
[compile]                 # defaults for `autotosis compile`
max-length = "10m"
pad-before = 4

[train]
epochs = 20

[profile.artosis]         # `--profile artosis` on any command
facecam = [0.7833, 0.1296, 0.9682, 0.3694]   # every command with a --facecam option takes it
threshold = 0.8

[profile.artosis.compile] # only for compile under this profile
model = "models/artosis.pt"
```

Keys are the commands' long option names (`max-length` or `max_length`). A value given on
the command line wins over the profile's command table, which wins over the profile's
own keys, which win over the `[command]` table, which wins over the built-in default.
This module reads and locates; which keys exist and what types they take is the CLI's
business (cli/config.py checks them against the commands' options).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autotosis.core.errors import ConfigError
from autotosis.core.tomlfile import parse_toml

CONFIG_FILE = "autotosis.toml"


@dataclass(frozen=True)
class Setting:
    """One key from the file: its value and where it is."""

    key: str  # as written
    value: Any
    line: int
    where: str  # "[compile]", "[profile.x]", "[profile.x.compile]"


@dataclass(frozen=True)
class ProjectConfig:
    path: Path
    commands: dict[str, dict[str, Setting]] = field(default_factory=dict)  # [command] tables
    profiles: dict[str, dict[str, Setting]] = field(default_factory=dict)  # a profile's own keys
    profile_commands: dict[str, dict[str, dict[str, Setting]]] = field(default_factory=dict)

    def layers(self, command: str, profile: str | None) -> list[dict[str, Setting]]:
        """The file's tables that apply to `command`, lowest precedence first."""
        if profile is not None and profile not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(f"{self.path}: no profile '{profile}' (profiles: {known})")
        out = [self.commands.get(command, {})]
        if profile is not None:
            out += [self.profiles[profile], self.profile_commands[profile].get(command, {})]
        return out


def option_key(key: str) -> str:
    """`max-length` and `max_length` name the same option."""
    return key.replace("-", "_")


def _locate(text: str) -> dict[tuple[str, str], int]:
    """(table, key) -> line number, from the text: tomlkit keeps no positions."""
    lines: dict[tuple[str, str], int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            table = re.sub(r"\s*\.\s*", ".", header.group(1)).replace('"', "")
            lines.setdefault((table, ""), number)
            continue
        key = re.match(r"\s*\"?([\w.-]+)\"?\s*=", line)
        if key:
            lines.setdefault((table, key.group(1)), number)
    return lines


def load_config(folder: Path | str = ".", commands: tuple[str, ...] = ()) -> ProjectConfig | None:
    """The project's autotosis.toml, or None when there is none.

    `commands` are the command names a `[name]` table may have; any other table is an
    error naming its line.
    """
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    doc = parse_toml(text, path, ConfigError)
    lines = _locate(text)

    def line(table: str, key: str = "") -> int:
        return lines.get((table, key), lines.get((table, ""), 1))

    def settings(table: str, values: dict, skip: tuple[str, ...] = ()) -> dict[str, Setting]:
        out: dict[str, Setting] = {}
        for key, value in values.items():
            if key in skip:
                continue
            if isinstance(value, dict):
                raise ConfigError(f"{path}:{line(table, key)}: [{table}.{key}] is not a table autotosis "
                                  f"knows (inside [{table}] only option = value)")
            out[option_key(key)] = Setting(key, value, line(table, key), f"[{table}]")
        return out

    names = ", ".join(f"[{c}]" for c in commands)
    config = ProjectConfig(path)
    for table, values in doc.items():
        if table == "profile":
            if not isinstance(values, dict):
                raise ConfigError(f"{path}:{line('', table)}: 'profile' must be tables [profile.NAME]")
            for name, body in values.items():
                where = f"profile.{name}"
                if not isinstance(body, dict):
                    raise ConfigError(f"{path}:{line('profile', name)}: profile '{name}' must be a table "
                                      f"[profile.{name}]")
                sub = [k for k, v in body.items() if isinstance(v, dict)]
                for k in sub:
                    if k not in commands:
                        raise ConfigError(f"{path}:{line(f'{where}.{k}')}: unknown table [{where}.{k}] "
                                          f"(a profile may hold tables for: {names})")
                config.profiles[name] = settings(where, body, tuple(sub))
                config.profile_commands[name] = {k: settings(f"{where}.{k}", body[k]) for k in sub}
            continue
        if not isinstance(values, dict):
            raise ConfigError(f"{path}:{line('', table)}: unknown key '{table}' at the top "
                              f"(expected tables: {names}, [profile.NAME])")
        if table not in commands:
            raise ConfigError(f"{path}:{line(table)}: unknown table [{table}] "
                              f"(expected: {names}, [profile.NAME])")
        config.commands[table] = settings(table, values)
    return config
