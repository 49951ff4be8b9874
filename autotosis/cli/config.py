"""`--profile` on every command, defaults from autotosis.toml, and `autotosis config`.

The file is read once per invocation, by the eager `--profile` option's callback, which
runs before any other option is parsed: it checks every key of the file against the
commands' options (unknown keys and wrong types are one-line errors with the key and
line) and gives the command's context a `default_map`, so click itself applies the
precedence: a value typed on the command line wins over the file, the file over the
built-in default. Any option a command has is a valid key, so options added to a
command later work in the file without more code here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from autotosis.core.config import ProjectConfig, Setting, load_config
from autotosis.core.errors import ConfigError

SKIP = frozenset({"help", "profile"})


def options_of(command: click.Command) -> dict[str, click.Option]:
    """Config key (long option name, dashes as underscores) -> option, for one command."""
    out: dict[str, click.Option] = {}
    for param in command.params:
        if not isinstance(param, click.Option) or param.name in SKIP:
            continue
        longs = [o for o in param.opts if o.startswith("--")]
        if longs:
            out[longs[0][2:].replace("-", "_")] = param
    return out


def _value(option: click.Option, value: Any) -> Any:
    """A file's value as the option takes it: one value for a repeatable option is a list of one
    (`model = "models/a.pt"` and `model = ["models/a.pt", "models/b.pt"]` both work)."""
    return [value] if option.multiple and not isinstance(value, list | tuple) else value


def _several_for_one(option: click.Option, value: Any) -> bool:
    """A list of several for an option that takes one value (a profile's `model = [a, b]` for label)."""
    return (option.name == "model" and not option.multiple and isinstance(value, list | tuple)
            and len(value) != 1)


def _commands(ctx: click.Context) -> dict[str, click.Command]:
    root = ctx.find_root().command
    return dict(root.commands) if isinstance(root, click.Group) else {}


def _check(config: ProjectConfig, commands: dict[str, click.Command]) -> None:
    """Every key names an option of the command(s) it applies to, with a value of the right type."""
    tables: list[tuple[dict[str, Setting], list[str]]] = []
    for name, table in config.commands.items():
        tables.append((table, [name]))
    for profile, table in config.profiles.items():
        tables.append((table, [c for c in commands if c != "config"]))
        for name, sub in config.profile_commands[profile].items():
            tables.append((sub, [name]))
    for table, names in tables:
        for key, setting in table.items():
            where = f"{config.path}:{setting.line}: {setting.key}"
            takers = [(c, options_of(commands[c])[key]) for c in names if key in options_of(commands[c])]
            if not takers:
                which = names[0] if len(names) == 1 else "any command"
                raise ConfigError(f"{where}: unknown option for {which} (in {setting.where}; "
                                  f"see `autotosis {names[0] if len(names) == 1 else 'COMMAND'} --help`)")
            for command_name, option in takers:
                if _several_for_one(option, setting.value):
                    if len(names) > 1:
                        continue  # a profile's list for the commands that take several (see several_models)
                    raise ConfigError(f"{where}: `autotosis {command_name}` takes one {setting.key}, "
                                      "not a list")
                if isinstance(option.type, click.types.IntParamType) and isinstance(setting.value, float):
                    raise ConfigError(f"{where}: {setting.value} is not a whole number")
                probe = click.Context(commands[command_name], info_name=command_name, resilient_parsing=False)
                try:
                    option.process_value(probe, _value(option, setting.value))
                except click.BadParameter as exc:
                    raise ConfigError(f"{where}: {exc.message}") from None
                except (TypeError, ValueError) as exc:
                    raise ConfigError(f"{where}: {exc}") from None


def resolve(ctx: click.Context, command: str, profile: str | None,
            folder: Path | None = None) -> tuple[ProjectConfig | None, dict[str, tuple[Any, str]]]:
    """(config, param name -> (value, source)) for `command` from the file, highest precedence winning."""
    commands = _commands(ctx)
    config = load_config(folder or Path.cwd(), tuple(c for c in commands if c != "config"))
    if config is None:
        if profile is not None:
            raise ConfigError(f"--profile {profile}: no autotosis.toml in {Path.cwd()}")
        return None, {}
    _check(config, commands)
    options = options_of(commands[command])
    found: dict[str, tuple[Any, str]] = {}
    for layer in config.layers(command, profile):
        for key, setting in layer.items():
            if key in options:
                source = f"{setting.where} {config.path.name}:{setting.line}"
                value = _value(options[key], setting.value)
                if key == "model" and not options[key].multiple and isinstance(value, list | tuple) \
                        and len(value) == 1:
                    value = value[0]
                found[options[key].name or key] = (value, source)
    return config, found


def _apply(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The eager `--profile` callback: the file's defaults become this command's default_map."""
    if ctx.resilient_parsing or ctx.command.name is None:
        return value
    _, found = resolve(ctx, ctx.command.name, value)
    options = {option.name: option for option in options_of(ctx.command).values()}
    several = {k: (v, source) for k, (v, source) in found.items() if _several_for_one(options[k], v)}
    ctx.meta["autotosis.several"] = several
    ctx.default_map = {**(ctx.default_map or {}),
                       **{k: v for k, (v, _) in found.items() if k not in several}}
    ctx.meta["autotosis.profile"] = value
    return value


def add_profile_option(command: click.Command) -> None:
    """Give `command` the `--profile NAME` option (and the file's defaults)."""
    command.params.insert(0, click.Option(
        ["--profile"], is_eager=True, expose_value=False, callback=_apply,
        help="Use [profile.NAME] of autotosis.toml (CLI > profile > [command] table > built-in)."))


def several_models(ctx: click.Context | None = None) -> tuple[list[Path], str] | None:
    """(the checkpoints, where the file gives them) when the profile gives this one-model command
    (label, suggest) a list of models, as compile and live take; None otherwise. The command
    uses the one that scores its --label, or says which single --model to pass."""
    ctx = ctx or click.get_current_context(silent=True)
    found = ctx.meta.get("autotosis.several", {}).get("model") if ctx is not None else None
    return ([Path(p) for p in found[0]], found[1]) if found else None


def profile_used(ctx: click.Context | None = None) -> str | None:
    """The --profile the current command runs under (None: none)."""
    ctx = ctx or click.get_current_context(silent=True)
    return ctx.meta.get("autotosis.profile") if ctx is not None else None


def _shown(value: Any) -> str:
    if value is None or value is getattr(click.core, "UNSET", None):
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


@click.command(name="config")
@click.argument("commands", nargs=-1)
@click.pass_context
def config_command(ctx: click.Context, commands: tuple[str, ...]) -> None:
    """Print every option of COMMANDS (default: all) as autotosis.toml and --profile resolve it.

    \b
    autotosis config
    autotosis config compile --profile artosis
    """
    known = {k: v for k, v in _commands(ctx).items() if k != "config"}
    for name in commands:
        if name not in known:
            raise click.BadParameter(f"no command '{name}' (commands: {', '.join(known)})")
    profile = profile_used(ctx)
    config, _ = resolve(ctx, "config", None)
    click.echo(f"file:    {config.path if config else 'none (no autotosis.toml here)'}")
    click.echo(f"profile: {profile or 'none'}")
    for name in commands or tuple(known):
        _, found = resolve(ctx, name, profile)
        click.echo(f"\n{name}")
        probe = click.Context(known[name], info_name=name)
        for key, option in options_of(known[name]).items():
            if option.name in found:
                raw, source = found[option.name]
                several = _several_for_one(option, raw)  # the profile's list: the command picks one
                value = raw if several else option.process_value(probe, raw)
            else:
                value, source = option.get_default(probe, call=True), "built-in"
            click.echo(f"  {key.replace('_', '-'):<16} {_shown(value):<28} {source}")
