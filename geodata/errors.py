"""Input errors that name the file, the row and the column, in French, so an adviser can fix the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    ``row`` is the 1-based line number in the file as a spreadsheet shows it (header = line 1), or ``None`` when the
    problem concerns the whole file; ``column`` is the column name as written in the file, or ``None``.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    suggestion: str = ""
    severity: str = "erreur"  # "erreur" blocks the import; "avertissement" is reported and kept

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"ligne {self.row}")
        if self.column is not None:
            where.append(f"colonne « {self.column} »")
        text = f"{', '.join(where)} : {self.message}"
        return f"{text} ({self.suggestion})" if self.suggestion else text


class DataError(ValueError):
    """Raised when an input file cannot be imported. Carries every blocking problem found, not only the first."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        if not self.problems:
            raise ValueError("DataError needs at least one problem")
        head = str(self.problems[0])
        more = len(self.problems) - 1
        super().__init__(head if more == 0 else f"{head} (et {more} autre(s) problème(s))")

    @classmethod
    def at(
        cls,
        file: str | Path,
        message: str,
        row: int | None = None,
        column: str | None = None,
        suggestion: str = "",
    ) -> DataError:
        """Shortcut for a single problem."""
        return cls(Problem(file=Path(file).name, message=message, row=row, column=column, suggestion=suggestion))


class OutOfTerritory(DataError):
    """The file is valid but does not cover the territory being built (e.g. a dept 66 cut when building dept 11).

    The builder reports the layer as missing, with this reason, instead of failing: a base bundle for any
    département must build from the default data directory.
    """
