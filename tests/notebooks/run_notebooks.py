#!/usr/bin/env python3
"""Executes notebooks headless with nbclient (one warm kernel per notebook) and saves the executed copies.

usage: run_notebooks.py OUT_DIR NOTEBOOK...   (the kernel « java » must be on JUPYTER_PATH)
Runs two notebooks at a time (a notebook spends much of its time waiting on its kernel's subprocesses),
prints one line per notebook as it ends, and exits 1 if any notebook's cells raised an error.
Set KIT_NOTEBOOK_JOBS=1 to run them one after the other.
"""
import concurrent.futures
import os
import pathlib
import sys
import time

import nbclient
import nbformat


def execute(path, out):
    """Runs one notebook in this process; returns (ok, line)."""
    path = pathlib.Path(path)
    nb = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="java", timeout=300, startup_timeout=120,
                                     resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.time()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:
        nbformat.write(nb, str(pathlib.Path(out) / path.name))
        return False, f"ÉCHEC {path.name} après {time.time() - start:.1f} s : {str(e)[:2000]}"
    nbformat.write(nb, str(pathlib.Path(out) / path.name))
    return True, f"OK {path.name} {time.time() - start:.1f} s"


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    jobs = int(os.environ.get("KIT_NOTEBOOK_JOBS", "2"))
    start = time.time()
    ok = True
    # one process per notebook: each has its own kernel and event loop
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(execute, p, str(out)) for p in sys.argv[2:]]
        for f in concurrent.futures.as_completed(futures):
            passed, line = f.result()
            ok &= passed
            print(line, flush=True)
    print(f"TOTAL {len(futures)} notebooks {time.time() - start:.1f} s, {jobs} à la fois", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
