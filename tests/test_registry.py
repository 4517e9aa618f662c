"""The converter registry: registration, dispatch order, combination, -c."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import rmagic_ext
from rmagic_ext import Converter, ConversionError, py2r, r2py
from rmagic_ext.convert import default


@pytest.fixture
def scratch_rules():
    """Rules registered by a test are removed afterwards."""
    before_py, before_r = dict(default.py2r.rules), dict(default.r2py.rules)
    yield
    default.py2r.rules.clear()
    default.py2r.rules.update(before_py)
    default.r2py.rules.clear()
    default.r2py.rules.update(before_r)


def test_registering_needs_no_running_r():
    code = textwrap.dedent("""
        import rmagic_ext, rmagic_ext.session as s
        class Point: pass
        @rmagic_ext.py2r.register(Point)
        def _(p): return rmagic_ext.py2r([1.0, 2.0])
        @rmagic_ext.r2py.register("my_class")
        def _(x): return "mine"
        print(s._session is None)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_r_class_rule_wins_in_class_order(ip, scratch_rules):
    @r2py.register("base_cls")
    def _(sexp):
        return "base"

    @r2py.register("derived_cls")
    def _(sexp):
        return "derived"

    assert ip.run_line_magic("R", "structure(list(), class = c('derived_cls', 'base_cls'))") == "derived"
    assert ip.run_line_magic("R", "structure(list(), class = 'base_cls')") == "base"


def test_rule_by_dotted_type_name_needs_no_import(scratch_rules):
    import fractions

    @py2r.register("fractions.Fraction")
    def _(value):
        return py2r(float(value))

    assert r2py(py2r(fractions.Fraction(1, 4))) == 0.25


def test_subclass_uses_the_rule_of_its_base(scratch_rules):
    class Celsius(float):
        pass

    assert r2py(py2r(Celsius(21.5))) == 21.5


def test_combined_converters_right_wins():
    loud = Converter("loud")

    @loud.py2r.register(str)
    def _(value):
        return default.py2r(value.upper())

    combined = default + loud
    assert r2py(combined.py2r("hi")) == "HI"
    assert r2py(combined.py2r(1)) == 1  # falls back to the default rules
    assert r2py(default.py2r("hi")) == "hi"  # the default is untouched


def test_nested_values_use_the_active_converter(ip):
    loud = Converter("loud", default)

    @loud.py2r.register(str)
    def _(value):
        return default.py2r(value.upper())

    ip.user_ns.update(loud=loud, words={"a": ["x", "y"], "b": "z"})
    assert ip.run_line_magic("R", "-c loud -i words unlist(words)").tolist() == ["X", "Y", "Z"]


def test_r2py_rule_in_a_converter_for_one_call(ip):
    as_text = Converter("as_text", default)

    @as_text.r2py.register("data.frame")
    def _(sexp):
        return "a data.frame"

    ip.user_ns["as_text"] = as_text
    assert ip.run_line_magic("R", "-c as_text data.frame(a = 1)") == "a data.frame"
    assert ip.run_line_magic("R", "data.frame(a = 1)").shape == (1, 1)


def test_unknown_python_type_error_says_how_to_register():
    class Opaque:
        pass

    with pytest.raises(ConversionError, match="py2r.register"):
        Converter("bare").py2r(Opaque())  # the default converter would send a reference


def test_public_names():
    for name in ("py2r", "r2py", "Converter", "RError", "RParseError"):
        assert hasattr(rmagic_ext, name)


def test_readme_point_example(run_cell, ip, scratch_rules):
    result = run_cell(
        textwrap.dedent("""
        import rmagic_ext

        class Point:
            def __init__(self, x, y):
                self.x, self.y = x, y

        @rmagic_ext.py2r.register(Point)
        def _(p):
            return rmagic_ext.py2r({"x": p.x, "y": p.y})   # a named list in R

        @rmagic_ext.r2py.register("point")          # R's class(), in order, then typeof()
        def _(sexp):
            with rmagic_ext.convert.shaped("python"):   # scalars, whichever surface asks
                x, y = (rmagic_ext.r2py(element) for element in sexp)
            return Point(x, y)

        pt = Point(3, 4)
        back = %R -i pt class(pt) <- "point"; pt
    """)
    )
    assert result.success
    back = ip.user_ns["back"]
    assert type(back).__name__ == "Point" and (back.x, back.y) == (3, 4) and type(back.x) is int
    assert ip.run_line_magic("R", "-i pt sqrt(pt$x^2 + pt$y^2)").tolist() == [
        5.0
    ]  # the rule made in a cell is what -i uses


def test_registering_a_key_again_in_one_converter_warns_and_the_new_rule_wins(scratch_rules):
    from rmagic_ext.errors import RuleReplacedWarning

    mine = Converter("mine")

    @mine.r2py.register("double")
    def first(sexp):
        return "first"

    with pytest.warns(RuleReplacedWarning, match=r"mine converter: the rule for 'double'"):

        @mine.r2py.register("double")
        def second(sexp):
            return "second"

    assert mine.r2py.rules["double"] is second


def test_the_default_rules_replace_none_of_each_other():
    """R's atomic vectors have one rule, labelled.py's (built on numpy's and
    pandas'): no module registers over another's (pandas used to)."""
    from rmagic_ext.convert import labelled

    for key in ("logical", "integer", "double", "complex", "character"):
        assert default.r2py.rules[key] is labelled.atomic_to_py


def test_a_classed_list_goes_to_the_proxy_not_the_list_rule(ip):
    value = ip.run_line_magic("R", "structure(list(x = 1), class = 'point')")
    assert isinstance(value, rmagic_ext.RObject) and value.rclass == ("point",)
    assert ip.run_line_magic("R", "list(x = 1)") == {"x": 1.0}
