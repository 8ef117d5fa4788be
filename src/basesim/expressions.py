"""Outcome expressions: the per-run quantity or condition an experiment targets.

An experiment's ``outcome=`` is an *outcome expression*, evaluated run by run:

* an outcome name, as :class:`~basesim.outcomes.OutcomeTable` spells it:
  ``"basing=withdrawal"``, ``"basing=unsettled"``, ``"joint=withdrawal /
  substantial"``, ``"no agreement"``: true for the runs that end so;
* ``settled:ISSUE``: true for the runs that settled the issue;
* ``value:ISSUE``: the issue's final value, a number (the agreed value of a
  settled issue, the status quo in force at the horizon for an unsettled one);
* ``month:ISSUE``: the round (month, 1 to the horizon) in which the issue was
  settled, a number; a run that never settled it counts as ``horizon + 1``;
* a number, such as ``0.3`` or ``6``;
* comparisons of numbers, ``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``
  (``"value:basing < 0.3"``, ``"month:basing <= 6"``), which are conditions;
* ``not A``, ``A and B``, ``A or B`` over conditions, and parentheses.
  ``not`` binds tightest, then ``and``, then ``or``.

A condition is 1 in a run where it holds and 0 elsewhere, so its mean over runs
is its probability; a number (``value:`` or ``month:`` alone) is a continuous
per-run outcome.  The parser reads the text itself (nothing is evaluated as
Python) and names the bad token, with a close match, when it cannot.

Examples
--------
>>> import basesim
>>> scn = basesim.load_scenario("syria-2025")
>>> expr = parse_outcome(scn, "basing=withdrawal and not settled:sanctions_relief")
>>> expr.text, expr.is_condition, expr.is_categorical
('basing=withdrawal and not settled:sanctions_relief', True, True)
>>> parse_outcome(scn, "value:basing").is_condition
False
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from basesim.exceptions import SimulationError
from basesim.outcomes import MAX_JOINT_CELLS, NO_AGREEMENT, OutcomeTable
from basesim.scenario import Scenario, suggest

if TYPE_CHECKING:
    from basesim.engine.outcome import BatchOutcome

__all__ = ["OutcomeExpression", "RunOutcomes", "parse_outcome"]

#: Per-run quantities: prefix -> whether it is a condition (else a number).
PREFIXES = {"settled": True, "value": False, "month": False}
_KEYWORDS = ("and", "or", "not")
_OPERATORS = ("<=", ">=", "==", "!=", "<", ">")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_KEYWORD = re.compile(r"(and|or|not)(?=[\s(]|$)")


@dataclass(frozen=True, slots=True)
class RunOutcomes:
    """What expressions read of each run.

    Attributes
    ----------
    rows
        ``(n, K)`` each run's row in each issue's table (the category of a
        settled issue, the last row, ``"unsettled"``, otherwise).
    values
        ``(n, K)`` each issue's final value, or ``None`` where not known (the
        cells of a joint table).
    rounds
        ``(n, K)`` the round each issue was settled in, 0 if unsettled, or
        ``None``.
    horizon
        The scenario's horizon (``month:`` of an unsettled issue is ``horizon + 1``).
    """

    rows: NDArray[np.intp]
    values: NDArray[np.float64] | None
    rounds: NDArray[np.int64] | None
    horizon: int

    @classmethod
    def of(cls, scenario: Scenario, outcome: BatchOutcome) -> RunOutcomes:
        """The runs of a batch of ``scenario``."""
        rows = OutcomeTable.of(scenario).issue_rows(scenario, outcome)
        return cls(
            rows=rows,
            values=np.asarray(outcome.package, dtype=np.float64),
            rounds=np.asarray(outcome.settled_round, dtype=np.int64),
            horizon=scenario.horizon,
        )


# -- syntax tree ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Column:  # an outcome column of the table: a condition
    column: int
    name: str


@dataclass(frozen=True, slots=True)
class _Quantity:  # prefix:issue
    prefix: str
    issue: int
    name: str


@dataclass(frozen=True, slots=True)
class _Number:
    value: float
    name: str


@dataclass(frozen=True, slots=True)
class _Compare:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Logic:
    op: str  # "and" / "or"
    operands: tuple[_Node, ...]


_Node = _Column | _Quantity | _Number | _Compare | _Not | _Logic


def _is_condition(node: _Node) -> bool:
    if isinstance(node, _Quantity):
        return PREFIXES[node.prefix]
    return not isinstance(node, _Number)


def _render(node: _Node, parent: str = "") -> str:
    if isinstance(node, _Column | _Quantity | _Number):
        return node.name
    if isinstance(node, _Compare):
        return f"{_render(node.left)} {node.op} {_render(node.right)}"
    if isinstance(node, _Not):
        inner = _render(node.operand, "not")
        return f"not {inner}"
    text = f" {node.op} ".join(_render(o, node.op) for o in node.operands)
    return f"({text})" if parent in ("not", "and") and node.op != parent else text


def _categorical(node: _Node) -> bool:
    if isinstance(node, _Quantity):
        return node.prefix == "settled"
    if isinstance(node, _Compare):
        return False
    if isinstance(node, _Not):
        return _categorical(node.operand)
    if isinstance(node, _Logic):
        return all(_categorical(o) for o in node.operands)
    return True


_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


@dataclass(frozen=True, slots=True)
class OutcomeExpression:
    """A parsed outcome expression (see :func:`parse_outcome`).

    Attributes
    ----------
    text
        The expression in canonical spelling (outcome names as
        :class:`~basesim.outcomes.OutcomeTable` spells them).
    table
        The outcome tables of the scenario it was parsed for.
    """

    text: str
    table: OutcomeTable
    _node: _Node

    @property
    def is_condition(self) -> bool:
        """Whether each run gives 0 or 1 (a condition), rather than a number."""
        return _is_condition(self._node)

    @property
    def is_categorical(self) -> bool:
        """Whether it depends on each issue's table row alone (no ``value:``, ``month:``).

        Such a condition is a union of cells of the joint table, so its
        probability follows from outcome counts (:meth:`probability`).
        """
        return _categorical(self._node)

    @property
    def from_counts(self) -> bool:
        """Whether its probability follows from outcome counts (:meth:`probability`).

        True for a single outcome name, and for any categorical condition
        when the joint table is enumerated (see
        :attr:`~basesim.outcomes.OutcomeTable.enumerated`); other conditions
        are evaluated run by run.
        """
        if not self.is_condition:
            return False
        return self.column is not None or (self.is_categorical and self.table.enumerated)

    @property
    def column(self) -> int | None:
        """The outcome column, if the expression is a single outcome name, else ``None``."""
        return self._node.column if isinstance(self._node, _Column) else None

    def evaluate(self, runs: RunOutcomes) -> NDArray[np.float64]:
        """``(n,)`` the expression in each run: 0/1 for a condition, else the number."""
        return np.asarray(self._eval(self._node, runs), dtype=np.float64)

    def cells(self) -> NDArray[np.bool_]:
        """``(n_joint,)`` which cells of the joint table satisfy a categorical condition."""
        if not (self.is_condition and self.is_categorical):
            raise SimulationError(
                f"outcome {self.text!r} reads values or months, so it is not a union of joint "
                "outcomes; it needs the runs themselves"
            )
        table = self.table
        if not table.enumerated:
            raise SimulationError(
                f"outcome {self.text!r} combines issues, and the joint table must have at most "
                f"MAX_JOINT_CELLS = {MAX_JOINT_CELLS} cells to count it (the scenario's issues "
                f"have {math.prod(table.shape)} combinations); it needs the runs themselves"
            )
        rows = np.column_stack(np.unravel_index(np.arange(table.n_joint), table.shape))
        every = RunOutcomes(rows=rows.astype(np.intp), values=None, rounds=None, horizon=0)
        return self.evaluate(every).astype(bool)

    def probability(self, counts: NDArray[np.int64], n_runs: int) -> NDArray[np.float64]:
        """Probability of a categorical condition from outcome counts ``(..., n_columns)``.

        The counts are in the column layout of the table, over ``n_runs``
        runs: a single outcome name reads its own column; any other
        condition, the joint table's cells that satisfy it.
        """
        counts = np.asarray(counts)
        if self.column is not None:
            hits = counts[..., self.column]
        else:
            hits = counts[..., : self.table.n_joint][..., self.cells()].sum(axis=-1)
        return np.asarray(hits / n_runs, dtype=np.float64)

    def _eval(self, node: _Node, runs: RunOutcomes) -> NDArray[np.float64] | NDArray[np.bool_]:
        table = self.table
        if isinstance(node, _Column):
            if node.column < table.n_joint:
                return np.asarray(table.joint_rows(runs.rows) == node.column, dtype=bool)
            issue, label = table.labels[node.column]
            k = table.issues.index(issue)
            return np.asarray(runs.rows[:, k] == table.row_labels(k).index(label), dtype=bool)
        if isinstance(node, _Number):
            return np.full(runs.rows.shape[0], node.value)
        if isinstance(node, _Quantity):
            k = node.issue
            if node.prefix == "settled":
                return np.asarray(runs.rows[:, k] != len(table.categories[k]), dtype=bool)
            if node.prefix == "value":
                assert runs.values is not None
                return runs.values[:, k]
            assert runs.rounds is not None
            r = runs.rounds[:, k]
            return np.where(r > 0, r, runs.horizon + 1).astype(np.float64)
        if isinstance(node, _Compare):
            return _COMPARE[node.op](self._eval(node.left, runs), self._eval(node.right, runs))
        if isinstance(node, _Not):
            return ~self._eval(node.operand, runs).astype(bool)
        parts = [self._eval(o, runs).astype(bool) for o in node.operands]
        reduce = np.logical_and if node.op == "and" else np.logical_or
        return np.asarray(reduce.reduce(parts))


# -- parsing ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "op", "keyword", "number", "atom"
    text: str
    position: int


def _atom_names(table: OutcomeTable) -> list[str]:
    names = [*table.names, f"joint={NO_AGREEMENT}"]
    names += [f"{prefix}:{issue}" for prefix in PREFIXES for issue in table.issues]
    return names


def _boundary(text: str, i: int) -> bool:
    return i == len(text) or text[i].isspace() or text[i] in "()<>=!"


def _tokenize(text: str, table: OutcomeTable, argument: str) -> list[_Token]:
    names = sorted(_atom_names(table), key=len, reverse=True)
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] in "()":
            tokens.append(_Token(text[i], text[i], i))
            i += 1
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(_Token("op", op, i))
            i += len(op)
            continue
        # The longest known name first: categories may hold spaces and keywords.
        name = next(
            (n for n in names if text.startswith(n, i) and _boundary(text, i + len(n))), None
        )
        if name is not None:
            tokens.append(_Token("atom", name, i))
            i += len(name)
            continue
        match = _KEYWORD.match(text, i)
        if match:
            tokens.append(_Token("keyword", match.group(1), i))
            i = match.end()
            continue
        match = _NUMBER.match(text, i)
        if match and _boundary(text, match.end()):
            tokens.append(_Token("number", match.group(), i))
            i = match.end()
            continue
        # An unknown atom (or a loose spelling of a known one): up to the next
        # keyword, parenthesis or comparison.
        j = i
        while j < len(text) and text[j] not in "()<>!" and not text.startswith("==", j):
            if (j == i or text[j - 1].isspace()) and _KEYWORD.match(text, j):
                break
            j += 1
        word = text[i:j].rstrip()
        if not word:
            raise SimulationError(
                f"{argument}: unexpected {text[i]!r} at position {i} of {text!r}"
            )
        tokens.append(_Token("atom", word, i))
        i += len(word)
    return tokens


#: The deepest nesting of parentheses and ``not`` an expression may have.
MAX_NESTING = 100


class _Parser:
    def __init__(self, text: str, table: OutcomeTable, argument: str) -> None:
        self.text = text
        self.table = table
        self.argument = argument
        self.tokens = _tokenize(text, table, argument)
        self.i = 0
        self.depth = 0

    def nest(self, token: _Token) -> None:
        """One more level of ``(`` or ``not``: refused past :data:`MAX_NESTING`."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(
                f"{token.text!r} at position {token.position} nests deeper than "
                f"{MAX_NESTING} levels of parentheses and 'not'"
            )

    def fail(self, message: str) -> SimulationError:
        return SimulationError(f"{self.argument} {self.text!r}: {message}")

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail("the expression ends too early")
        self.i += 1
        return token

    def parse(self) -> _Node:
        if not self.tokens:
            raise self.fail("the expression is empty")
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            hint = " (combine conditions with and, or, not)" if token.kind == "atom" else ""
            raise self.fail(f"unexpected {token.text!r} at position {token.position}{hint}")
        return node

    def condition(self, node: _Node, token: _Token, word: str) -> _Node:
        if not _is_condition(node):
            raise self.fail(
                f"{word!r} at position {token.position} needs a condition, and "
                f"{_render(node)!r} is a number (compare it, e.g. '{_render(node)} > 0.5')"
            )
        return node

    def parse_logic(self, op: str, parse_operand: str) -> _Node:
        first = getattr(self, parse_operand)()
        operands = [first]
        while (token := self.peek()) is not None and token.kind == "keyword" and token.text == op:
            self.take()
            operands.append(getattr(self, parse_operand)())
            for node in operands:
                self.condition(node, token, op)
        return operands[0] if len(operands) == 1 else _Logic(op, tuple(operands))

    def parse_or(self) -> _Node:
        return self.parse_logic("or", "parse_and")

    def parse_and(self) -> _Node:
        return self.parse_logic("and", "parse_not")

    def parse_not(self) -> _Node:
        token = self.peek()
        if token is not None and token.kind == "keyword" and token.text == "not":
            self.take()
            self.nest(token)
            node = _Not(self.condition(self.parse_not(), token, "not"))
            self.depth -= 1
            return node
        return self.parse_compare()

    def parse_compare(self) -> _Node:
        left = self.parse_primary()
        token = self.peek()
        if token is None or token.kind != "op":
            return left
        self.take()
        right = self.parse_primary()
        for side in (left, right):
            if _is_condition(side):
                raise self.fail(
                    f"{token.text!r} at position {token.position} compares numbers "
                    f"(value:ISSUE, month:ISSUE or a number), and {_render(side)!r} is a "
                    "condition"
                )
        if isinstance(left, _Number) and isinstance(right, _Number):
            raise self.fail(f"{token.text!r} at position {token.position} compares two numbers")
        follow = self.peek()
        if follow is not None and follow.kind == "op":
            raise self.fail(
                f"unexpected {follow.text!r} at position {follow.position}: comparisons do "
                "not chain (write 'a < x and x < b')"
            )
        return _Compare(token.text, left, right)

    def parse_primary(self) -> _Node:
        token = self.take()
        if token.kind == "(":
            self.nest(token)
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.fail(f"the '(' at position {token.position} is never closed")
            self.take()
            self.depth -= 1
            return node
        if token.kind == "number":
            value = float(token.text)
            return _Number(value, f"{value:g}")
        if token.kind == "atom":
            return self.atom(token)
        raise self.fail(f"unexpected {token.text!r} at position {token.position}")

    def atom(self, token: _Token) -> _Node:
        word = token.text
        head, colon, rest = word.partition(":")
        if colon and "=" not in head:
            prefix, issue = head.strip(), rest.strip()
            if prefix not in PREFIXES:
                raise self.fail(
                    f"unknown quantity {prefix!r} in {word!r} at position {token.position}: "
                    f"one of {', '.join(p + ':ISSUE' for p in PREFIXES)}"
                    f"{suggest(prefix, PREFIXES)}"
                )
            if issue not in self.table.issues:
                raise self.fail(
                    f"unknown issue {issue!r} in {word!r} at position {token.position}: one "
                    f"of {', '.join(self.table.issues)}{suggest(issue, self.table.issues)}"
                )
            return _Quantity(prefix, self.table.issues.index(issue), f"{prefix}:{issue}")
        if len(self.tokens) == 1:
            # A lone name: the outcome tables' own message lists every name.
            column = self.table.index(word, argument=self.argument)
            return _Column(column, self.table.names[column])
        try:
            column = self.table.index(word, argument=self.argument)
        except SimulationError:
            names = _atom_names(self.table)
            raise self.fail(
                f"unknown outcome {word!r} at position {token.position}"
                f"{suggest(word, names)}; outcomes are ISSUE=CATEGORY, ISSUE=unsettled, "
                f"joint=A / B, {NO_AGREEMENT!r}, settled:ISSUE, value:ISSUE, month:ISSUE"
            ) from None
        return _Column(column, self.table.names[column])


def parse_outcome(
    scenario: Scenario | OutcomeTable, text: str, *, argument: str = "outcome"
) -> OutcomeExpression:
    """Parse an outcome expression for ``scenario`` (see the module's description).

    Parameters
    ----------
    scenario
        The scenario (or its :class:`~basesim.outcomes.OutcomeTable`).
    text
        The expression.
    argument
        The argument's name, for error messages.

    Returns
    -------
    OutcomeExpression

    Raises
    ------
    SimulationError
        If ``text`` is not an expression: the message names the bad token,
        its position and a close match.
    """
    table = scenario if isinstance(scenario, OutcomeTable) else OutcomeTable.of(scenario)
    if not isinstance(text, str):
        raise SimulationError(
            f"{argument} must be an outcome expression such as 'basing=withdrawal' or "
            f"'value:basing > 0.5' (got {type(text).__name__}: {text!r})"
        )
    node = _Parser(text, table, argument).parse()
    return OutcomeExpression(_render(node), table, node)
