"""The YAML loader of rule packs (:func:`cleankit.stages.boilerplate.packs.parse_pack`), in
a module of its own so that PyYAML is imported only when a pack is read, not when the packs
come from the start-up cache."""

from __future__ import annotations

from typing import Any

import yaml


class AliasRefused(yaml.YAMLError):
    def __init__(self, what: str, mark: Any) -> None:
        line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        super().__init__(f"YAML {what} are not allowed in rule packs{line}")


class PackLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors and aliases. Aliases let a few lines of YAML
    stand for a structure of 10^8 elements (an "alias bomb"), which the checks of each rule
    would then walk; a rule pack never needs them (each rule is written out), so the first
    anchor or alias ends loading with the line it is on, before anything is built."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise AliasRefused("aliases (*name)", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise AliasRefused("anchors (&name)", event.start_mark)
        return super().compose_node(parent, index)
