"""``.. rmagic-settings:: rmagic_ext.magics.RMagics``: every configurable
trait of the class (``class_traits(config=True)``) as a ``py:attribute`` of
it, with its type, default and help, by name.

So each setting is in the Sphinx inventory as
``rmagic_ext.magics.RMagics.<name>`` and can be linked with
``{py:attr}`rmagic_ext.magics.RMagics.device```; a setting added to the class
appears here by itself.
"""

from __future__ import annotations

import importlib
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

TYPES = {
    "Bool": "bool",
    "Int": "int",
    "Integer": "int",
    "Float": "float",
    "Unicode": "str",
    "CaselessStrEnum": "str",
    "Enum": "str",
}


def trait_type(trait) -> str:
    name = TYPES.get(type(trait).__name__, type(trait).__name__)
    return f"{name} | None" if getattr(trait, "allow_none", False) else name


def trait_default(trait) -> str:
    value = trait.default_value
    return repr(value)


def rst_help(text: str) -> str:
    """The trait's help as reStructuredText: `name` (markdown's code) as ``name``."""
    text = " ".join(text.split())
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)


class RMagicSettings(SphinxDirective):
    required_arguments = 1  # the class, by its dotted path

    def run(self) -> list[nodes.Node]:
        path = self.arguments[0]
        module_name, _, class_name = path.rpartition(".")
        cls = getattr(importlib.import_module(module_name), class_name)
        lines = []
        for name, trait in cls.class_traits(config=True).items():
            lines += [
                f".. py:attribute:: {class_name}.{name}",  # the same full name inside the class's body or not
                f"   :module: {module_name}",
                f"   :type: {trait_type(trait)}",
                f"   :value: {trait_default(trait)}",
                "",
                f"   {rst_help(trait.help or '')}",
                "",
            ]
            values = getattr(trait, "values", None)
            if values:
                lines += ["   One of " + ", ".join(f"``{v!r}``" for v in values) + ".", ""]
            lines += [f"   ``%config {class_name}.{name} = ...``", ""]
        node = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source=f"<{path} settings>"), node)
        return node.children


def setup(app):
    app.add_directive("rmagic-settings", RMagicSettings)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
