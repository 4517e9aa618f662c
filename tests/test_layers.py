"""The layers of ARCHITECTURE.md hold in the code: each R file has one
Python owner, named in its header; the session knows nothing of the layers
above it; R helpers are called one way."""

from __future__ import annotations

import re
from pathlib import Path

import rmagic_ext

PACKAGE = Path(rmagic_ext.__file__).resolve().parent  # the checkout, or the installed wheel
HEADER = re.compile(r"^# Loaded by rmagic_ext/(\S+\.py)")


def sources() -> dict[str, str]:
    return {str(p.relative_to(PACKAGE)): p.read_text() for p in PACKAGE.rglob("*.py")}


def test_each_r_file_is_loaded_by_the_one_module_its_header_names():
    python = sources()
    for r_file in sorted((PACKAGE / "R").glob("*.R")):
        header = HEADER.match(r_file.read_text())
        assert header, f"{r_file.name} does not name the module that loads it"
        loaders = [
            name
            for name, text in python.items()
            if re.search(rf"""(RCode|source)\(["']{re.escape(r_file.name)}["']""", text)
        ]
        assert loaders == [header.group(1)], (r_file.name, loaders)


def test_the_session_imports_nothing_from_the_layers_above():
    session = (PACKAGE / "session.py").read_text()
    above = ("convert", "graphics", "display", "bridge", "magics", "completion")
    assert not re.findall(rf"^\s*(from \.({'|'.join(above)})|import rmagic_ext\.)", session, re.M)


#: An R function looked up in an environment and called: env["name"](...)
#: (base R's own functions, baseenv["ls"], are not rmagic_ext's helpers).
HELPER_CALL = re.compile(r"""(?<!baseenv)\[(name|["']\w+["'])\]\(""")


def test_r_helpers_are_called_only_through_session_call():
    calls = {name: len(HELPER_CALL.findall(text)) for name, text in sources().items()}
    assert {name: n for name, n in calls.items() if n and name != "session.py"} == {}
    session = (PACKAGE / "session.py").read_text()
    body = session[session.index("    def call(self") : session.index("    # -- entering R")]
    assert len(HELPER_CALL.findall(session)) == len(HELPER_CALL.findall(body)) > 0


#: convert/'s floor: the registry and settings, R vectors by R type from
#: buffers (vectors, datetimes) and the bulk paths under them.
CONVERT_FLOOR = {"registry", "settings", "_rt", "_bulk", "vectors", "datetimes"}
#: The library modules, siblings above the floor; each may build only on the
#: libraries its own library is built on.
CONVERT_LIBRARIES = {
    "builtins": set(),
    "numpy": set(),
    "arrow": set(),
    "sparse": set(),
    "pandas": {"numpy", "arrow"},
    "labelled": {"numpy", "pandas"},
}


def convert_imports() -> dict[str, set[str]]:
    """Which modules of convert/ each one imports (at the top or in a function)."""
    import ast

    found = {}
    for path in (PACKAGE / "convert").glob("*.py"):
        imports = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                imports.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        found[path.stem] = imports
    return found


def test_convert_has_no_import_circle_and_libraries_build_only_on_their_own():
    graph = convert_imports()
    for module, imports in graph.items():
        if module in CONVERT_FLOOR:
            assert not imports & set(CONVERT_LIBRARIES), (module, imports & set(CONVERT_LIBRARIES))
        if module in CONVERT_LIBRARIES:
            others = imports & set(CONVERT_LIBRARIES)
            assert others <= CONVERT_LIBRARIES[module], (module, others)
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for nxt in graph.get(module, ()):
            assert state.get(nxt) != "open", f"import circle: {' -> '.join(path + [nxt])}"
            if nxt in graph and nxt not in state:
                visit(nxt, path + [nxt])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])
