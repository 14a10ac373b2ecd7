"""Sampling budgets: how much of the code sequence to generate.

A budget is one of

* a fraction of the codes: ``0.25`` (a float in (0, 1]);
* a percentage: ``"25%"``;
* a code count: ``64`` (an integer >= 1; ``1`` means one code, write ``1.0``
  for the whole sequence);
* a wall-clock deadline: ``"150ms"``, ``"0.5s"``.

Fractions round to the nearest whole code and never below one code.

:func:`parse_budgets` is the one parser for the ``budgets`` option, used by the
command line and the Python API alike. It takes a single budget (``0.5``,
``64``, ``"25%"``, ``"150ms"``), a list or tuple (or an OmegaConf ``ListConfig``)
of them, or a quoted string holding one budget or a comma-separated list
(``"16"``, ``"[0.25, 64]"``, ``"0.5,25%"``). A string is never read character
by character: ``"16"`` is one budget of 16 codes.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

_DEADLINE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s)\s*$")


@dataclass(frozen=True)
class Budget:
    """A parsed budget. Exactly one of ``codes`` / ``fraction`` / ``seconds`` is set."""

    text: str
    fraction: float | None = None
    codes: int | None = None
    seconds: float | None = None

    @property
    def is_deadline(self) -> bool:
        return self.seconds is not None

    def num_codes(self, length: int) -> int:
        """Codes to generate for a sequence of ``length`` (deadlines: all of them at most)."""
        if self.codes is not None:
            if self.codes > length:
                raise ValueError(f"budget {self.text!r} asks for {self.codes} codes but the sequence has {length}")
            return self.codes
        if self.fraction is not None:
            return max(1, min(length, round(self.fraction * length)))
        return length

    @property
    def folder_name(self) -> str:
        """Folder-friendly name: ``0.25``, ``64codes``, ``150ms``."""
        if self.fraction is not None:
            return f"{self.fraction:g}" if self.fraction != 1 else "1.0"
        if self.codes is not None:
            return f"{self.codes}codes"
        return f"{self.seconds * 1000:g}ms"


#: The accepted forms, quoted in every rejection so the message says what to write instead.
FORMS = ("a fraction in (0, 1] like 0.25, a percentage like 25%, a code count like 64, "
         "or a deadline like 150ms or 0.2s")


def parse_budget(value) -> Budget:
    """Parse ``0.25``, ``"25%"``, ``64``, ``"150ms"`` or ``"0.2s"`` into a :class:`Budget`.

    An ``int`` (or a string of digits) is a code count and a ``float`` a
    fraction, so ``1`` is one code and ``1.0`` the whole sequence. Raises
    ``ValueError`` saying what is wrong with ``value``.
    """
    if isinstance(value, Budget):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float, numbers.Real)):
        raise ValueError(f"{value!r} is not a budget; use {FORMS}")
    text = str(value).strip()
    match = _DEADLINE.match(text)
    if match:
        amount = float(match.group(1))
        seconds = amount / 1000 if match.group(2) == "ms" else amount
        if seconds <= 0:
            raise ValueError(f"a deadline must be positive, got {text!r}")
        return Budget(text, seconds=seconds)
    if text.endswith("%"):
        try:
            pct = float(text[:-1])
        except ValueError:
            raise ValueError(f"{text!r} is not a percentage; write a number followed by %, like 25%") from None
        if not 0 < pct <= 100:
            raise ValueError(f"a percentage budget must lie in (0, 100], got {text!r}")
        return Budget(text, fraction=pct / 100)
    if isinstance(value, numbers.Integral) or re.fullmatch(r"[0-9]+", text):
        count = int(text)
        if count < 1:
            raise ValueError(f"a code count must be >= 1, got {text!r}")
        return Budget(text, codes=count)
    try:
        fraction = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a budget; use {FORMS}") from None
    if not 0 < fraction <= 1:
        raise ValueError(f"a fraction must lie in (0, 1], got {text!r}")
    return Budget(text, fraction=fraction)


def parse_budgets(values, name: str = "budgets") -> list[Budget]:
    """Parse the ``budgets`` option in any documented form into a list of budgets.

    ``values`` is one budget, a list/tuple/``ListConfig`` of budgets, or a
    string holding one budget or a comma-separated list, brackets and quotes
    optional. Anything else raises ``ValueError`` with a one-line message that
    starts with ``name`` (the option, for the command line) and lists the
    accepted forms.
    """
    try:
        items = _budget_items(values)
        budgets = [parse_budget(v) for v in items]
    except ValueError as e:
        message = str(e)
        if FORMS not in message:
            message += f"; a budget is {FORMS}"
        raise ValueError(f"{name}: {message}") from None
    return budgets


def _budget_items(values) -> list:
    """The individual budgets of ``values`` (a scalar, a sequence or a string), unparsed."""
    if isinstance(values, (Budget, numbers.Real)) and not isinstance(values, bool):
        return [values]
    if isinstance(values, str):
        text = values.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        if not text.strip():
            raise ValueError(f"no budgets given in {values!r}")
        items = [item.strip() for item in text.split(",")]
        if any(not item for item in items):
            raise ValueError(f"an empty budget in {values!r}")
        return [item[1:-1] if len(item) > 1 and item[0] == item[-1] and item[0] in "'\"" else item
                for item in items]
    if hasattr(values, "tolist") and not isinstance(values, (list, tuple)):  # a NumPy array
        values = values.tolist()
    if _is_sequence(values):
        items = list(values)
        if not items:
            raise ValueError("no budgets given (an empty list)")
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (Budget, str, numbers.Real)):
                raise ValueError(f"{item!r} in {_show(values)} is not a budget; use {FORMS}")
        return items
    raise ValueError(f"{values!r} is not a budget or a list of budgets; use {FORMS}")


def _is_sequence(values) -> bool:
    if isinstance(values, (list, tuple)):
        return True
    try:
        from omegaconf import ListConfig
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        return False
    return isinstance(values, ListConfig)


def _show(values) -> str:
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(values):
            return repr(OmegaConf.to_container(values))
    except ImportError:  # pragma: no cover
        pass
    return repr(values)
