"""``cleankit rules``: the boilerplate rule packs in use, and which rules fire on a page
and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from cleankit.cli.app import app
from cleankit.cli.common import (
    ColorOption,
    ConfigOption,
    JsonOption,
    RulesOption,
    build_pipeline,
    load_cli_settings,
    settings_file,
    usage_error,
    with_rule_packs,
)
from cleankit.core.errors import InputError
from cleankit.core.provenance import dumps
from cleankit.core.settings import Settings

if TYPE_CHECKING:
    from cleankit.stages.boilerplate import BoilerplateStage

rules_app = typer.Typer(help="Boilerplate rule packs: list them, and see which fire on a file and why.")
app.add_typer(rules_app, name="rules")


def _boilerplate_stage(settings: Settings, origin: Path | None) -> BoilerplateStage:
    from cleankit.core.errors import ConfigError
    from cleankit.core.stage import build_stage

    # A pack or option it cannot use is a ConfigError naming [stage.boilerplate]: one line, exit 2.
    try:
        return build_stage("boilerplate", settings.stage_options.get("boilerplate", {}))  # type: ignore[return-value]
    except ConfigError as exc:
        if origin is None:
            raise
        raise type(exc)(f"{origin}: {exc}") from exc


@rules_app.command("list")
def rules_list(
    config: ConfigOption = None, rules: RulesOption = None, as_json: JsonOption = False, color: ColorOption = "auto"
) -> None:
    """List every rule in use: id, family, zone, action, pack and what it matches (with
    --json, one object per rule and line)."""
    settings = with_rule_packs(load_cli_settings(config), rules)
    stage = _boilerplate_stage(settings, settings_file(config))
    if as_json:
        for rule in stage.ruleset.rules:
            item = {
                "id": rule.id,
                "family": rule.family,
                "zone": rule.zone,
                "action": rule.action,
                "pack": rule.describe_source(),
                "description": rule.description,
            }
            typer.echo(dumps(item))
        return
    # Plain aligned lines, never wrapped or cut, so the output can be searched and piped.
    rows = [("id", "family", "zone", "action", "pack", "description")]
    rows += [
        (rule.id, rule.family, rule.zone, rule.action, rule.describe_source(), rule.description)
        for rule in stage.ruleset.rules
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True)) + "  " + row[5])
    typer.echo(f"{len(stage.ruleset.rules)} rules")


@rules_app.command("test")
def rules_test(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A page to try the rules on.")],
    show_all: Annotated[bool, typer.Option("--all", help="Show every line, not only those a rule fired on.")] = False,
    learn_from: Annotated[
        Optional[Path],
        typer.Option(
            "--learn-from", metavar="DIR", help="Learn site furniture from this folder's files (FILE's site) first."
        ),
    ] = None,
    config: ConfigOption = None,
    rules: RulesOption = None,
    as_json: JsonOption = False,
    color: ColorOption = "auto",
) -> None:
    """Show which rules fire on FILE's lines, what is removed and why, and the metadata found.

    The file goes through the stages before boilerplate first, as in a clean run. Site
    learning needs other pages of the site: give them with --learn-from DIR (every file in DIR,
    recursively, counts as a page of FILE's site). With --json: one object with every line's
    verdict (the lines a rule fired on, or every line with --all) and the metadata."""
    settings = with_rule_packs(load_cli_settings(config), rules)
    stage = _boilerplate_stage(settings, settings_file(config))
    try:
        raw = file.read_bytes()
    except OSError as exc:
        usage_error(f"{file}: cannot read: {exc.strerror or exc}")
    before = settings.active_stages()
    before = before[: before.index("boilerplate")] if "boilerplate" in before else before
    pipeline = build_pipeline(settings.updated(stages=before, skip=[], verify_restore=False), settings_file(config))
    try:
        document = pipeline.clean_bytes(raw, source=str(file))
    except InputError as exc:
        usage_error(f"{file}: {exc}")
    site = None
    if learn_from is not None:
        if not learn_from.is_dir():
            usage_error(f"{learn_from}: not a folder")
        from cleankit.stages.boilerplate.sitelearn import FurnitureCounter

        counter = FurnitureCounter(by="folder", max_chars=stage.learn_max_chars)
        for path in sorted(p for p in learn_from.rglob("*") if p.is_file() and not p.name.startswith(".")):
            counter.add_file("site/page", path, settings.max_bytes, settings.encoding)
        site = counter.result(stage.learn_min_pages, stage.learn_min_share).sites.get("site")
        pages = counter.pages.get("site", 0)
        learned = sum(len(zone) for zone in site.counts.values()) if site else 0
        if not as_json:
            typer.echo(f"learned from {pages} page(s) of {learn_from}: {learned} furniture line(s)")
    analysis = stage.analyse(document.text, site)
    if as_json:
        shown: list[dict[str, Any]] = [
            {
                "line": line.index + 1,
                "zone": line.zone,
                "remove": line.remove,
                "rule": line.rule or None,
                "reason": line.reason or None,
                "fired": line.fired,
                "fields": line.fields,
                "text": line.text,
            }
            for line in analysis.lines
            if show_all or line.remove or line.fired
        ]
        result = {
            "file": str(file),
            "lines": len(analysis.lines),
            "removed": sum(line.remove for line in analysis.lines),
            "verdicts": shown,
            "metadata": analysis.metadata,
        }
        typer.echo(dumps(result, indent=2))
        return
    removed = 0
    for line in analysis.lines:
        removed += line.remove
        if not (show_all or line.remove or line.fired):
            continue
        verdict = "REMOVE" if line.remove else "keep"
        text = line.text if len(line.text) <= 60 else line.text[:57] + "..."
        typer.echo(f"{line.index + 1:>5} {line.zone:<9} {verdict:<6} {line.rule or '-':<22} {text}")
        if line.remove:
            typer.echo(f"{'':>5} {'':<9} {'':<6} why: {line.reason}")
        if line.fired and line.fired != [line.rule]:
            typer.echo(f"{'':>5} {'':<9} {'':<6} rules fired: {', '.join(line.fired)}")
        if line.fields:
            typer.echo(f"{'':>5} {'':<9} {'':<6} fields: {json.dumps(line.fields, ensure_ascii=False)}")
    typer.echo(f"{removed} of {len(analysis.lines)} lines removed")
    typer.echo("metadata: " + json.dumps(analysis.metadata, ensure_ascii=False))
