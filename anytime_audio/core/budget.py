"""Sampling budgets: how much of the code sequence to generate.

A budget is one of

* a fraction of the codes: ``0.25`` (a float in (0, 1]);
* a percentage: ``"25%"``;
* a code count: ``64`` (an integer >= 1; ``1`` means one code, write ``1.0``
  for the whole sequence);
* a wall-clock deadline: ``"150ms"``, ``"0.5s"``.

Fractions round to the nearest whole code and never below one code.
"""

from __future__ import annotations

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
    def label(self) -> str:
        """Folder-friendly name: ``0.25``, ``64codes``, ``150ms``."""
        if self.fraction is not None:
            return f"{self.fraction:g}" if self.fraction != 1 else "1.0"
        if self.codes is not None:
            return f"{self.codes}codes"
        return f"{self.seconds * 1000:g}ms"


def parse_budget(value) -> Budget:
    """Parse ``0.25``, ``"25%"``, ``64``, ``"150ms"`` or ``"0.2s"`` into a :class:`Budget`."""
    text = str(value).strip()
    if isinstance(value, bool):
        raise ValueError(f"not a budget: {value!r}")
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
            raise ValueError(f"not a percentage budget: {text!r}") from None
        if not 0 < pct <= 100:
            raise ValueError(f"a percentage budget must lie in (0, 100], got {text!r}")
        return Budget(text, fraction=pct / 100)
    if isinstance(value, int) or re.fullmatch(r"[0-9]+", text):
        count = int(text)
        if count < 1:
            raise ValueError(f"a code-count budget must be >= 1, got {text!r}")
        return Budget(text, codes=count)
    try:
        fraction = float(text)
    except ValueError:
        raise ValueError(
            f"not a budget: {text!r} (use a fraction like 0.25, a percentage like 25%, "
            "a code count like 64, or a deadline like 150ms)"
        ) from None
    if not 0 < fraction <= 1:
        raise ValueError(f"a fractional budget must lie in (0, 1], got {text!r}")
    return Budget(text, fraction=fraction)


def parse_budgets(values) -> list[Budget]:
    """Parse a list (or a comma-separated string) of budgets."""
    if isinstance(values, str):
        values = [v for v in values.strip("[]").split(",") if v.strip()]
    budgets = [parse_budget(v) for v in values]
    if not budgets:
        raise ValueError("no budgets given")
    return budgets
