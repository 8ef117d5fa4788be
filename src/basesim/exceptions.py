"""The errors basesim raises for a user's mistake.

Every error subclasses :class:`BasesimError`, so ``except basesim.BasesimError``
catches them all.  Messages name the field (its full path), the rule it broke and
the value it got.
"""

from __future__ import annotations

__all__ = [
    "BasesimError",
    "CalibrationError",
    "CheckpointError",
    "DataError",
    "ObservationError",
    "ProtocolError",
    "ResultError",
    "ScenarioError",
    "SimulationError",
]


class BasesimError(Exception):
    """Base class of every error basesim raises for bad input."""


class ScenarioError(BasesimError, ValueError):
    """A scenario (file or object) breaks a rule of the scenario format.

    Parameters
    ----------
    message
        What is wrong: the field's path, the rule and the bad value.
    source
        The file (or other origin) the scenario came from, if any; it is
        appended to the message as ``in <source>``.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.field_message = message
        self.source = source
        if source is not None and not source.isprintable():
            source = repr(source)  # one line, whatever the file name holds
        super().__init__(message if source is None else f"{message} in {source}")


class ProtocolError(BasesimError, ValueError):
    """A negotiation protocol was asked for something it cannot do."""


class ResultError(BasesimError, ValueError):
    """A saved result is malformed, or a result was asked for something it lacks."""


class SimulationError(BasesimError, ValueError):
    """A simulation, comparison, sweep or a result's method was called with bad arguments."""


class CheckpointError(BasesimError, ValueError):
    """A checkpoint folder holds another computation's work, or is damaged."""


class DataError(BasesimError, ValueError):
    """A data table (a DataFrame or a data file) cannot be read as scenarios.

    The message names the row and the column, the rule and the bad value.
    """


class ObservationError(BasesimError, ValueError):
    """An observation (object or file) is malformed, or does not fit the scenario it is scored on.

    The message names the field, the rule and the bad value.
    """


class CalibrationError(BasesimError, ValueError):
    """A calibration cannot produce a posterior (no run meets the observations, or bad arguments).

    The message says why: for observations no run met, the closest summed
    distance any run reached.
    """
