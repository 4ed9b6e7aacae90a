#!/usr/bin/env python3
"""Executes notebooks headless with nbclient (one warm kernel per notebook) and saves the executed copies.

usage: run_notebooks.py [--a-vous] OUT_DIR NOTEBOOK...   (the kernel « java » must be on JUPYTER_PATH)
Runs two notebooks at a time (a notebook spends much of its time waiting on its kernel and the broker),
prints one line per notebook as it ends, and exits 1 if any notebook's cells raised an error.
Set KIT_NOTEBOOK_JOBS=1 to run them one after the other.

--a-vous: applies each notebook's « À vous » change first, the one its text asks the student to make: the edit
kept in the notebook's metadata (kit.a_vous, written by tooling/notebooks/make_notebooks.py) replaces `before` by
`after` in the cell tagged `config`. Notebooks without one are skipped; the copy is saved as NAME.a-vous.ipynb.
The notebook still runs from its own folder, so that « %load shared.jsh » finds the shared code.
"""
import concurrent.futures
import os
import pathlib
import sys
import time

import nbclient
import nbformat


def apply_a_vous(nb, name):
    """Makes the student's edit in the cell tagged with the change's cell tag; fails if the text isn't there once."""
    change = nb.metadata["kit"]["a_vous"]
    cells = [c for c in nb.cells if change["cell"] in c.metadata.get("tags", [])]
    if len(cells) != 1 or cells[0].source.count(change["before"]) != 1:
        raise ValueError(f"{name} : « {change['before']} » doit apparaître une fois dans la cellule « {change['cell']} »")
    cells[0].source = cells[0].source.replace(change["before"], change["after"])


def execute(path, out, a_vous):
    """Runs one notebook in this process; returns (ok, line)."""
    path = pathlib.Path(path)
    nb = nbformat.read(str(path), as_version=4)
    name = path.name
    if a_vous:
        apply_a_vous(nb, path.name)
        name = path.stem + ".a-vous.ipynb"
    client = nbclient.NotebookClient(nb, kernel_name="java", timeout=300, startup_timeout=120,
                                     resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.time()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:
        nbformat.write(nb, str(pathlib.Path(out) / name))
        return False, f"ÉCHEC {name} après {time.time() - start:.1f} s : {str(e)[:2000]}"
    nbformat.write(nb, str(pathlib.Path(out) / name))
    return True, f"OK {name} {time.time() - start:.1f} s"


def main():
    args = sys.argv[1:]
    a_vous = "--a-vous" in args
    if a_vous:
        args.remove("--a-vous")
    out = pathlib.Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    notebooks = args[1:]
    if a_vous:
        notebooks = [p for p in notebooks if "a_vous" in nbformat.read(p, as_version=4).metadata.get("kit", {})]
    jobs = int(os.environ.get("KIT_NOTEBOOK_JOBS", "2"))
    start = time.time()
    ok = True
    # one process per notebook: each has its own kernel and event loop
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(execute, p, str(out), a_vous) for p in notebooks]
        for f in concurrent.futures.as_completed(futures):
            passed, line = f.result()
            ok &= passed
            print(line, flush=True)
    print(f"TOTAL {len(futures)} notebooks {time.time() - start:.1f} s, {jobs} à la fois", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
