"""Option parsing and name resolution for the magics (no R here).

A magic line is options first, then R code. The options are split off the
front and parsed with the magic's argparse parser; the code is kept verbatim
(quotes, ``;``, ``#`` and ``-`` signs untouched) for R's parser.
"""

from __future__ import annotations

import argparse
import functools
import keyword
import math
import re
from typing import Any, Iterable

from IPython.core.error import UsageError

_TOKEN = re.compile(r"""\s*("[^"]*"|'[^']*'|\S+)""")

# A syntactic R name: letters, digits, '.' and '_', starting with a letter or
# a dot not followed by a digit; reserved words excluded.
_R_NAME = re.compile(r"^(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*$|^\.$")
_R_RESERVED = {
    "if",
    "else",
    "repeat",
    "while",
    "function",
    "for",
    "next",
    "break",
    "TRUE",
    "FALSE",
    "NULL",
    "Inf",
    "NaN",
    "NA",
    "NA_integer_",
    "NA_real_",
    "NA_character_",
    "NA_complex_",
    "in",
}


def finite_positive(text: str) -> float:
    """The value of a plot size option (-w, -h, -r, -p): a finite number
    above 0; argparse names the option in its error (a UsageError)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0 (got {text})")
    return value


def colour(text: str) -> str:
    """The value of -b: R reads a colour name up to its first NUL, so a NUL
    would silently give another colour; argparse names the option."""
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a colour cannot hold a NUL byte")
    return text


def split_options(parser, line: str) -> tuple[Any, str]:
    """Parse the leading options of ``line`` with ``parser``; return the
    namespace and the rest of the line (the code), untouched."""
    actions = parser._option_string_actions  # argparse's own table of option strings
    argv: list[str] = []
    pos = 0
    while True:
        match = _TOKEN.match(line, pos)
        if not match:
            break
        token = match.group(1)
        option, attached = _known_option(token, actions)
        if option is None:
            break
        argv.append(token)
        pos = match.end()
        if actions[option].nargs == "?" and not attached:  # an optional value: a name, if one follows
            value = _TOKEN.match(line, pos)
            if value and re.fullmatch(r"[A-Za-z][\w.-]*", value.group(1)) and value.group(1) not in actions:
                argv.append(value.group(1))
                pos = value.end()
            continue
        if actions[option].nargs != 0 and not attached:
            value = _TOKEN.match(line, pos)
            if not value:
                raise UsageError(f"option {option} needs a value")
            argv.append(_unquote(value.group(1)))
            pos = value.end()
    if not argv:  # the common case: argparse's own run costs more than a plain cell
        return argparse.Namespace(**vars(_defaults(parser))), line[pos:].strip()
    return parser.parse_args(argv), line[pos:].strip()  # IPython's parser raises UsageError itself


@functools.lru_cache(maxsize=None)
def _defaults(parser):
    """What ``parser`` gives for no options (kept, copied for each use)."""
    return parser.parse_args([])


def _known_option(token: str, actions: dict) -> tuple[str | None, bool]:
    """The option a token names (``-i``, ``--input``, ``--input=x``, ``-ix``)
    and whether it carries its value."""
    if not token.startswith("-") or token == "-":
        return None, False
    if token in actions:
        return token, False
    if token.startswith("--") and "=" in token:
        name = token.split("=", 1)[0]
        return (name, True) if name in actions else (None, False)
    short = token[:2]
    if not token.startswith("--") and short in actions and actions[short].nargs != 0:
        return short, True
    return None, False


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def split_names(values: Iterable[str] | None) -> list[str]:
    """Comma- and space-separated names from repeated options, in order."""
    names = []
    for value in values or ():
        names += [n for n in re.split(r"[,\s]+", value) if n]
    return names


#: R refuses longer names (Rf_install); see _rapi.MAX_SYMBOL_BYTES.
MAX_R_NAME = 10_000


def check_r_name(name: str, option: str) -> str:
    if len(name) > MAX_R_NAME:
        raise UsageError(f"{option}: an R name has at most {MAX_R_NAME} characters (got {len(name)})")
    if not _R_NAME.match(name) or name in _R_RESERVED:
        raise UsageError(f"{option}: {name!r} is not a valid R name")
    return name


def check_python_path(path: str, option: str) -> str:
    parts = path.split(".")
    if not all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        raise UsageError(f"{option}: {path!r} is not a valid Python name")
    return path


def parse_pairs(names: Iterable[str], option: str, *, python_first: bool) -> list[tuple[str, str]]:
    """``name`` or ``left=right`` items as (r_name, python_path) pairs.

    For inputs the R name is on the left (``-i rname=pyname``, as in rpy2);
    for outputs the Python name is (``-o pyname=rname``).
    """
    pairs = []
    for item in names:
        left, _, right = item.partition("=")
        right = right or left
        r_name, py_path = (right, left) if python_first else (left, right)
        pairs.append((check_r_name(r_name, option), check_python_path(py_path, option)))
    return pairs


class MissingPythonName(UsageError, NameError):
    """A magic names a Python object that does not exist: a one-line usage
    error, and the NameError rpy2's magics raise for it."""

    def _render_traceback_(self) -> list[str]:  # IPython shortens UsageError itself, not subclasses
        return [f"UsageError: {self}"]


class MissingRName(UsageError, KeyError):
    """A magic names an R object that does not exist: a one-line usage
    error, and the KeyError rpy2's magics raise for it (from R's lookup)."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""

    def _render_traceback_(self) -> list[str]:
        return [f"UsageError: {self}"]


class MissingPythonAttribute(UsageError, AttributeError):
    """A dotted path names an attribute its object lacks: a one-line usage
    error, and the AttributeError rpy2's magics raise for it."""

    def _render_traceback_(self) -> list[str]:
        return [f"UsageError: {self}"]


class NotAConverter(UsageError, TypeError):
    """``-c`` names something that is not a converter: a one-line usage
    error, and the TypeError rpy2's magics raise for it."""

    def _render_traceback_(self) -> list[str]:
        return [f"UsageError: {self}"]


_MISSING = object()


def resolve(path: str, namespaces: Iterable[dict], option: str) -> Any:
    """Look up a dotted Python path in the first namespace holding its head
    (the caller's local scope comes first, then the user namespace)."""
    head, *attrs = path.split(".")
    value = _MISSING
    for namespace in namespaces:
        if namespace is not None and head in namespace:
            value = namespace[head]
            break
    if value is _MISSING:
        raise MissingPythonName(f"{option}: name {head!r} is not defined in Python")
    for i, name in enumerate(attrs):
        try:
            value = getattr(value, name)
        except AttributeError:
            owner = ".".join([head, *attrs[:i]])
            raise MissingPythonAttribute(f"{option}: {owner!r} has no attribute {name!r}") from None
    return value
