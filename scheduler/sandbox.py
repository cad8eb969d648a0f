"""The Jinja2 environment campaign templates run in: Jinja2's sandbox, with its costs bounded.

Admins write these templates, and one that takes seconds or gigabytes would freeze the worker
that compiles or renders it (`{{ (9**(9**7)) > 1 }}` took 3-4 s to save: Jinja2 folds constant
expressions at compile time, on the event loop, and a big power holds the GIL so a thread does
not help). So:
- no constant folding (`optimized=False`): compiling only parses and generates code;
- the operators that can make huge values (`**`, `*`, `%`) are intercepted (the sandbox's own
  hook, `intercepted_binops`) and refused past a size before Python computes them;
- the filters and the string formatting that pad to a given width refuse widths past a bound.
What is left to bound is time spent in loops; the save compiles off the event loop with a timeout
(scheduler/render.py).
"""
from __future__ import annotations

import re
import typing as t

from jinja2 import StrictUndefined
from jinja2.filters import do_center, do_format, do_indent
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_BITS = 100_000  # an integer result of ** or * (about 30,000 digits)
MAX_ITEMS = 10_000  # a string or list repeated with *
MAX_WIDTH = 200  # padding and field widths
_PERCENT_WIDTH = re.compile(r"%[-#0 +]*(?:\*|\d{4,}|\d*\.(?:\*|\d{4,}))")
_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*(?:\d{4,}|\{)")


class TooCostly(SecurityError):
    """A template asked for a value too large to make."""


def _check_power(left: t.Any, right: t.Any) -> None:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and left.bit_length() * right > MAX_BITS:
        raise TooCostly(f"{left.bit_length()}-bit number to the power {right} is too large")


def _check_product(left: t.Any, right: t.Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_BITS:
            raise TooCostly("product too large")
        return
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_ITEMS:
            raise TooCostly(f"repetition longer than {MAX_ITEMS}")


def _check_format(spec: t.Any) -> None:
    if isinstance(spec, str) and (_PERCENT_WIDTH.search(spec) or _BRACE_WIDTH.search(spec)):
        raise TooCostly(f"format widths are limited to {MAX_WIDTH}")


class BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*", "%"})  # Jinja2 never folds intercepted operators

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, trim_blocks=True, optimized=False)
        self.filters.update(center=_bounded_width(do_center), indent=_bounded_width(do_indent), format=_format)

    def call_binop(self, context, operator_: str, left: t.Any, right: t.Any) -> t.Any:
        if operator_ == "**":
            _check_power(left, right)
        elif operator_ == "*":
            _check_product(left, right)
        elif operator_ == "%":
            _check_format(left)
        return super().call_binop(context, operator_, left, right)

    def wrap_str_format(self, value: t.Any) -> t.Callable[..., str] | None:
        """`"{:>5}".format(x)`: the sandbox's own wrapper, after a look at the widths."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def checked(*args: t.Any, **kwargs: t.Any) -> str:
            _check_format(value.__self__)
            return wrapped(*args, **kwargs)
        return checked


def _bounded_width(filter_: t.Callable) -> t.Callable:
    def bounded(value, *args, **kwargs):
        width = args[0] if args else kwargs.get("width")
        if isinstance(width, int) and width > MAX_WIDTH:
            raise TooCostly(f"width is limited to {MAX_WIDTH}")
        return filter_(value, *args, **kwargs)
    return bounded


def _format(value, *args, **kwargs):
    _check_format(value)
    return do_format(value, *args, **kwargs)
