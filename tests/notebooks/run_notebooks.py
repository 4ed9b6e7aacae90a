#!/usr/bin/env python3
"""Executes notebooks headless with nbclient (one warm kernel per notebook) and saves the executed copies.

usage: run_notebooks.py OUT_DIR NOTEBOOK...   (the kernel « java » must be on JUPYTER_PATH)
Prints one line per notebook; exits 1 at the first notebook whose cells raise an error.
"""
import pathlib
import sys
import time

import nbclient
import nbformat


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for path in map(pathlib.Path, sys.argv[2:]):
        nb = nbformat.read(str(path), as_version=4)
        client = nbclient.NotebookClient(nb, kernel_name="java", timeout=300, startup_timeout=120,
                                         resources={"metadata": {"path": str(path.parent.resolve())}})
        start = time.time()
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as e:
            nbformat.write(nb, str(out / path.name))
            print(f"ÉCHEC {path.name} après {time.time() - start:.1f} s : {str(e)[:2000]}", flush=True)
            sys.exit(1)
        nbformat.write(nb, str(out / path.name))
        print(f"OK {path.name} {time.time() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
