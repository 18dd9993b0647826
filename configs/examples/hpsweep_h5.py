#!/usr/bin/env python3
"""Read sweep.h5 tables into pandas with names and strings instead of codes and bytes.

    import hpsweep_h5
    trials = hpsweep_h5.table("runs/quickstart/sweep.h5")            # /trials
    rungs = hpsweep_h5.table("runs/asha/sweep.h5", "rungs")
    print(trials.sort_values("objective").head())

pandas.DataFrame(h5py.File(path)["trials"][:]) works too, but h5py hands compound
fields over as stored: enums (status, categorical parameters) as their integer
codes and strings (cause) as bytes. table() maps each enum column to its member
names (a categorical's choices; "running", "done", ... for status) and decodes
byte strings as UTF-8. Bool parameters already read as numpy bools. Needs h5py
and pandas, nothing of hpsweep's.
"""
import h5py
import pandas


def table(path, name="trials"):
    """The compound dataset `name` of the sweep file at `path` as a DataFrame."""
    with h5py.File(path, "r") as f:
        dset = f[name]
        frame = pandas.DataFrame(dset[:])
        for column in frame.columns:
            members = h5py.check_enum_dtype(dset.dtype[column])
            if members:
                names = {code: member for member, code in members.items()}
                frame[column] = frame[column].map(names)
            elif frame[column].dtype == object or frame[column].dtype.kind == "S":
                frame[column] = frame[column].map(
                    lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
    return frame


if __name__ == "__main__":
    import sys
    print(table(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "trials").to_string())
