"""chainrule's benchmark: the engine side by side with micrograd and PyTorch.

Run it from the repository root with ``python -m bench`` (``--help`` lists the options).
Read in this order:

* ``moons.py``: W1's data (two moons) and the initial weights every engine starts from.
* ``w1_models.py``: W1's training step written once per engine, with the same maths, and
  chainrule's model called the other ways people call it (per point, micrograd's demo).
* ``engines.py``: the few scalar operations W2-W4 need, once per engine.
* ``workloads.py``: W1-W4 themselves, and what each measures.
* ``worker.py``: one (engine, workload) pair in a process of its own, one JSON line out.
* ``report.py``: medians over repeats, the speed targets and the table.
* ``cli.py``: the command line; it starts the workers and writes the JSON file.
* ``profiling.py``: cProfile of chainrule's W1 step (``--profile W1``).
* ``w1_styles.py``, ``gc_probe.py``, ``threads.py``, ``ab.py``: diagnostics, each a command
  of its own (``python -m bench.w1_styles`` ...); see bench/README.md.

The benchmark installs nothing: micrograd and torch come with ``pip install -e ".[bench]"``,
and an engine that is not installed shows "not installed" in its column.
"""
