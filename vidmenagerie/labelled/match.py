"""Class names to indices, ignoring case and punctuation, so ``Putting [something] on [something]``,
``putting something on something`` and ``acting_in_play`` find their classes."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from vidmenagerie.errors import VideoError


def class_key(name: str) -> str:
    """``name`` compared loosely: case-folded, letters and digits only (brackets, spaces, '_', "'" dropped)."""
    return "".join(c for c in name.casefold() if c.isalnum())


def parse_index(text: str) -> int | None:
    """``text`` as a class index when it is a whole number ("7", " 12 "), else None."""
    text = text.strip()
    return int(text) if text.isdigit() or (text.startswith("-") and text[1:].isdigit()) else None


@dataclass(frozen=True)
class ClassMatcher:
    """Finds a class index by name: an exact name first, then the loose key of :func:`class_key`.

    Two classes with the same key (ImageNet's "Cardigan" the dog and "cardigan" the sweater) are told
    apart only by their exact names; a loose match to both is ambiguous and refused.
    """

    class_names: tuple[str, ...]
    _exact: dict[str, int] = field(init=False, repr=False, compare=False)
    _loose: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        exact: dict[str, int] = {}
        loose: dict[str, tuple[int, ...]] = {}
        for index, name in enumerate(self.class_names):
            exact.setdefault(name, index)
            key = class_key(name)
            loose[key] = (*loose.get(key, ()), index)
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_loose", loose)

    @classmethod
    def of(cls, class_names: Sequence[str]) -> ClassMatcher:
        """A matcher for ``class_names`` (any sequence)."""
        return cls(tuple(class_names))

    def find(self, name: str) -> tuple[int, ...]:
        """The indices ``name`` may stand for: one, none, or several when only the loose key matches them."""
        if name in self._exact:
            return (self._exact[name],)
        key = class_key(name)
        return self._loose.get(key, ()) if key else ()

    def index(self, name: str, where: str) -> int:
        """The class index of ``name``; a VideoError naming ``where`` ("val.csv:12") if it names none or several."""
        found = self.find(name)
        if len(found) == 1:
            return found[0]
        if found:
            choices = ", ".join(f"{i} ({self.class_names[i]!r})" for i in found)
            raise VideoError(f"{where}: class name {name!r} is ambiguous ({choices}): give the exact name or the index")
        close = difflib.get_close_matches(class_key(name), self._loose, n=1, cutoff=0.8)
        hint = f"; did you mean {self.class_names[self._loose[close[0]][0]]!r}?" if close else ""
        raise VideoError(
            f"{where}: unknown class {name!r} (not one of the {len(self.class_names)} class names, "
            f"compared ignoring case and punctuation){hint}"
        )

    def label(self, text: str, where: str) -> tuple[int, bool]:
        """A table cell as (class index, given as a number?): a whole number is an index, anything else a name."""
        number = parse_index(text)
        if number is None:
            return self.index(text.strip(), where), False
        if not 0 <= number < len(self.class_names):
            raise VideoError(f"{where}: class index {number} is out of range 0..{len(self.class_names) - 1}")
        return number, True
