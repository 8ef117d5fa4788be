"""Plots of backtests: each model's errors against the baselines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from basesim.exceptions import BasesimError
from basesim.plotting.common import (
    BAR,
    NEUTRAL,
    frame_of,
    new_axes,
    require,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes


__all__ = ["backtest_errors", "plot_backtest"]


# -- backtests ----------------------------------------------------------------------------
_BASELINE_LABELS = {
    "weighted_mean": "salience-weighted mean",
    "capability_weighted_mean": "capability x salience weighted mean",
    "median_of_positions": "median of positions",
}


def backtest_errors(result: Any, *, statistic: str = "mean") -> pd.DataFrame:
    """The numbers :func:`plot_backtest` draws: one row per bar, top to bottom.

    Columns ``label``, ``model``, ``statistic``, ``mae``, ``mae_low``,
    ``mae_high``, ``baseline`` (True for the predictors computed from the
    data); each model's rows with ``statistic`` (``"mean"`` or
    ``"median"``), then the baselines.
    """
    if statistic not in ("mean", "median"):
        raise BasesimError(f"statistic must be 'mean' or 'median' (got {statistic!r})")
    frame = frame_of(result, "result")
    require(frame, ["model", "statistic", "mae", "mae_low", "mae_high"], "a backtest table")
    rows = frame[frame["statistic"].isin([statistic, "point"])].copy()
    rows["baseline"] = rows["statistic"] == "point"
    rows["label"] = [
        _BASELINE_LABELS.get(m, m) if base else f"{m} ({statistic})"
        for m, base in zip(rows["model"], rows["baseline"], strict=True)
    ]
    columns = ["label", "model", "statistic", "mae", "mae_low", "mae_high", "baseline"]
    return rows[columns].reset_index(drop=True)


def plot_backtest(result: Any, *, ax: Axes | None = None, statistic: str = "mean") -> Axes:
    """Mean absolute error of each model and baseline, with its bootstrap interval.

    One horizontal bar per predictor (models in blue, baselines in grey),
    with the interval from resampling proposals; a dashed line marks the
    salience-weighted mean's error, the level a model must beat.  Errors are
    in the data's units.

    Parameters
    ----------
    result
        A :class:`~basesim.BacktestResult` (or its ``to_frame()``).
    ax
        Axes to draw on (a new figure if ``None``).
    statistic
        Which point prediction of the models to show: ``"mean"`` or ``"median"``.
    """
    rows = backtest_errors(result, statistic=statistic)
    ax = new_axes(ax, (7.0, 0.45 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    mae = rows["mae"].to_numpy(float)
    low = np.clip(mae - rows["mae_low"].to_numpy(float), 0.0, None)
    high = np.clip(rows["mae_high"].to_numpy(float) - mae, 0.0, None)
    colours = [NEUTRAL if base else BAR for base in rows["baseline"]]
    ax.barh(y, mae, color=colours, height=0.6)
    ax.errorbar(mae, y, xerr=np.vstack([low, high]), fmt="none", ecolor="black", capsize=3, lw=1)
    reference = rows[rows["model"] == "weighted_mean"]
    if len(reference):
        ax.axvline(float(reference["mae"].iloc[0]), color="black", ls="--", lw=1)
    ax.set_yticks(y, rows["label"].tolist())
    ax.set_xlabel("mean absolute error (data units; whiskers: bootstrap interval over proposals)")
    ax.set_xlim(left=0)
    ax.set_title("Backtest: error per model")
    return ax
