"""Talk to hpsweep from a Python training script (standard library only).

hpsweep runs an external-command objective as a plain process and reads its
standard output. The protocol is plain text, so this module is a convenience,
not a requirement: any line on stdout of the form

    @hpsweep step=3 val_loss=0.231 acc=0.91

is one intermediate report (a step and any number of named numeric metrics),
and the last value reported for the sweep's `metric.name` is the trial's
result. Everything else on stdout is kept in trials/<id>/stdout.log and
otherwise ignored. The same report from other languages:

    shell:  echo "@hpsweep step=$epoch val_loss=$loss"
    C++:    std::cout << "@hpsweep step=" << epoch << " val_loss=" << loss << std::endl;

(flush after each line -- std::endl does -- so hpsweep sees reports as they
happen rather than when the process exits.)

The trial's context arrives in environment variables, which the functions below
read; outside hpsweep they return their defaults, so a script that uses them
also runs by hand:

    HPSWEEP_TRIAL_ID     the trial's id (0, 1, 2, ...)
    HPSWEEP_SEED         the trial's seed (an unsigned 64-bit integer)
    HPSWEEP_BUDGET       the resource for multi-fidelity strategies; 0 = full
    HPSWEEP_TRIAL_DIR    a directory of this trial's own, for checkpoints
    HPSWEEP_PARAMS       a JSON object of all parameters
    HPSWEEP_PARAM_<NAME> one variable per parameter, name upper-cased

Example:

    import hpsweep_report as hs
    p = hs.params()                      # {"lr": 0.01, "layers": 3, ...}
    for epoch in range(1, 11):
        loss = train_one_epoch(p["lr"])
        hs.report(step=epoch, val_loss=loss)
"""

import json
import math
import os
import re
import sys

__all__ = ["report", "params", "trial_id", "trial_dir", "seed", "budget"]

PREFIX = "@hpsweep"

# A metric name must be one token of the `key=value` line: no spaces, no '='.
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _format_value(key, value):
    """One metric value as text that parses back to the same double."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    try:
        v = float(value)  # numpy/torch scalars and 0-d tensors convert here
    except (TypeError, ValueError):
        raise TypeError(f"hpsweep_report: metric {key!r} must be a number, got {value!r}")
    if math.isnan(v):
        return "nan"  # hpsweep fails a trial whose metric is NaN: report it, don't hide it
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)  # shortest text that round-trips the double


def report(step=None, **metrics):
    """Print one `@hpsweep` report line and flush it.

    step: the step or resource (e.g. the epoch) the metrics were measured at;
    metrics: name=number pairs, e.g. report(step=3, val_loss=0.231, acc=0.91).
    Returns the line printed (without the newline).
    """
    if step is None and not metrics:
        raise ValueError("hpsweep_report.report: nothing to report")
    fields = []
    if step is not None:
        fields.append("step=" + _format_value("step", step))
    for key, value in metrics.items():
        if not _KEY.match(key):
            raise ValueError(f"hpsweep_report: metric name {key!r} is not a single token")
        fields.append(f"{key}={_format_value(key, value)}")
    line = " ".join([PREFIX] + fields)
    # A report must start a line of its own; flush so it arrives while we run.
    print(line, file=sys.stdout, flush=True)
    return line


def _parse_scalar(text):
    """Best guess at the type of an HPSWEEP_PARAM_* value (used without HPSWEEP_PARAMS)."""
    if text == "true":
        return True
    if text == "false":
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def params():
    """All parameters of this trial as a dict (empty outside hpsweep).

    Read from HPSWEEP_PARAMS (JSON, exact names and types). Without it, from the
    HPSWEEP_PARAM_<NAME> variables: names come back lower-cased and values are
    typed by their text (int, float, true/false, else string).
    """
    raw = os.environ.get("HPSWEEP_PARAMS")
    if raw:
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("HPSWEEP_PARAMS is not a JSON object")
        return value
    prefix = "HPSWEEP_PARAM_"
    return {k[len(prefix):].lower(): _parse_scalar(v)
            for k, v in os.environ.items() if k.startswith(prefix)}


def trial_id(default=None):
    """This trial's id as an int, or `default` outside hpsweep."""
    v = os.environ.get("HPSWEEP_TRIAL_ID")
    return int(v) if v else default


def trial_dir(default=None):
    """This trial's own directory (for checkpoints), or `default` outside hpsweep."""
    return os.environ.get("HPSWEEP_TRIAL_DIR") or default


def seed(default=0):
    """This trial's seed as an int (0 <= seed < 2**64), or `default` outside hpsweep."""
    v = os.environ.get("HPSWEEP_SEED")
    return int(v) if v else default


def budget(default=None):
    """The trial's budget (resource) as a float; 0 means the full budget.

    Returns `default` outside hpsweep.
    """
    v = os.environ.get("HPSWEEP_BUDGET")
    return float(v) if v else default


if __name__ == "__main__":
    # `python3 hpsweep_report.py` shows what a trial would see and one report line.
    print("trial", trial_id(), "seed", seed(), "budget", budget(), "dir", trial_dir(),
          file=sys.stderr)
    print("params", params(), file=sys.stderr)
    report(step=0, example_metric=0.5)
