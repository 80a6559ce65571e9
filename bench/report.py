"""From the workers' JSON records to a summary, the speed targets, and one table.

``summarize`` takes the median of every number over the repeats of a (workload, engine)
pair (the worst value for error measures), ``evaluate_targets`` compares chainrule with the
baselines of the same run, and ``format_table`` prints both.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from bench.w1_models import W1_ROWS
from bench.workloads import short_count

Record = dict[str, Any]
Summary = dict[str, dict[str, Record]]

# Error measures are summarized by their worst value, not their median.
WORST_OF = {"max_abs_diff", "relative_error"}

# Cells for pairs that were not measured: the reason, as the table shows it.
NOT_APPLICABLE = "n/a"


def summarize(records: list[Record]) -> Summary:
    """summary[workload][engine]: the repeats of one pair merged into one record."""
    grouped: dict[str, dict[str, list[Record]]] = {}
    for record in records:
        grouped.setdefault(record["workload"], {}).setdefault(record["engine"], []).append(record)
    return {
        workload: {engine: _merge_runs(runs) for engine, runs in by_engine.items()}
        for workload, by_engine in grouped.items()
    }


def _merge_runs(runs: list[Record]) -> Record:
    ok = [{k: v for k, v in r.items() if k != "repeat"} for r in runs if r.get("status") == "ok"]
    if not ok:
        return dict(runs[0])
    merged = _merge(ok)
    merged["runs"] = len(runs)
    merged["ranges"] = {
        key: [min(r[key] for r in ok), max(r[key] for r in ok)]
        for key, value in merged.items()
        if isinstance(value, float) and key != "wall_seconds"
    }
    if len(ok) < len(runs):
        failed = next(r for r in runs if r.get("status") != "ok")
        merged["failed_runs"] = f"{len(runs) - len(ok)} of {len(runs)}: {failed.get('status')}"
    return merged


def _merge(values: list[Any], key: str = "") -> Any:
    """Medians of numbers (worst for error measures), recursively through dicts and lists."""
    first = values[0]
    if all(v == first for v in values):
        return first
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return max(values) if key in WORST_OF else statistics.median(values)
    if all(isinstance(v, dict) for v in values):
        keys = dict.fromkeys(k for v in values for k in v)
        return {k: _merge([v[k] for v in values if k in v], k) for k in keys}
    if all(isinstance(v, list) and len(v) == len(first) for v in values):
        return [_merge(list(column), key) for column in zip(*values)]
    return " / ".join(dict.fromkeys(str(v) for v in values))


# ---- targets ----------------------------------------------------------------------------


def _cell(summary: Summary, workload: str, engine: str) -> Record | None:
    record = summary.get(workload, {}).get(engine)
    return record if record and record.get("status") == "ok" else None


def _w1_time(summary: Summary, engine: str, workload: str = "W1") -> float | None:
    cell = _cell(summary, workload, engine)
    return cell["seconds_per_step"] if cell else None


def _w2_total(summary: Summary, engine: str, workload: str = "W2") -> float | None:
    cell = _cell(summary, workload, engine)
    return cell["forward_ns_per_node"] + cell["backward_ns_per_node"] if cell else None


def _w3_depth(summary: Summary, engine: str, n: int) -> Record | None:
    cell = _cell(summary, "W3", engine)
    if not cell:
        return None
    return next((d for d in cell["depths"] if d["n"] == n), None)


def _seconds(depth: Record | None) -> float | None:
    if depth is None or depth["status"] != "ok":
        return None
    return depth["forward_seconds"] + depth["backward_seconds"]


def _ratio_target(name: str, numerator: float | None, denominator: float | None,
                  at_least: float | None = None, at_most: float | None = None,
                  missing: str = "") -> Record:
    target = f">= {at_least:g}x" if at_least is not None else f"<= {at_most:g}x"
    if numerator is None or denominator is None:
        return {"name": name, "value": None, "shown": f"n/a ({missing})", "target": target,
                "verdict": "n/a"}
    ratio = numerator / denominator
    passed = ratio >= at_least if at_least is not None else ratio <= at_most
    return {"name": name, "value": ratio, "shown": f"{_number(ratio)}x", "target": target,
            "verdict": "PASS" if passed else "FAIL"}


def evaluate_targets(summary: Summary) -> list[Record]:
    """The targets for chainrule, against the baselines measured in the same run."""
    ours_w1 = _w1_time(summary, "chainrule")
    ours_w2 = _w2_total(summary, "chainrule")
    targets = [
        _ratio_target("W1 per point / W1 batched, chainrule time",
                      _w1_time(summary, "chainrule", "W1p"), ours_w1, at_most=1.3,
                      missing="needs W1 and W1p of chainrule"),
        _ratio_target("W1 batched: chainrule time / torch-batched time", ours_w1,
                      _w1_time(summary, "torch-batched"), at_most=15,
                      missing="needs W1 of chainrule and torch-batched"),
        _ratio_target("W1 compiled: chainrule time / by-hand time",
                      _w1_time(summary, "chainrule", "W1c"), _w1_time(summary, "by-hand"),
                      at_most=0.5, missing="needs W1c of chainrule and W1 by hand"),
        _ratio_target("W1 compiled: chainrule time / torch-batched time",
                      _w1_time(summary, "chainrule", "W1c"), _w1_time(summary, "torch-batched"),
                      at_most=4, missing="needs W1c of chainrule and torch-batched"),
        _ratio_target("W1 compiled per point / W1 compiled, chainrule time",
                      _w1_time(summary, "chainrule", "W1cp"), _w1_time(summary, "chainrule", "W1c"),
                      at_most=1.2, missing="needs W1c and W1cp of chainrule"),
        _ratio_target("W1 micrograd-style: micrograd / chainrule time",
                      _w1_time(summary, "micrograd"), _w1_time(summary, "chainrule", "W1m"),
                      at_least=200, missing="needs W1 of micrograd and W1m of chainrule"),
        _ratio_target("W2 fwd+bwd per node: torch-scalar / chainrule",
                      _w2_total(summary, "torch-scalar"), ours_w2, at_least=10,
                      missing="needs W2 of chainrule and torch-scalar"),
        _ratio_target("W2 fwd+bwd per node: micrograd / chainrule",
                      _w2_total(summary, "micrograd"), ours_w2, at_least=15,
                      missing="needs W2 of chainrule and micrograd"),
    ]
    deep, shallow = _w3_depth(summary, "chainrule", 10**6), _w3_depth(summary, "chainrule", 10**5)
    if deep is None:
        targets.append({"name": "W3 N=1e6: backward succeeds", "value": None,
                        "shown": "n/a (N=1e6 not measured)", "target": "ok", "verdict": "n/a"})
    else:
        targets.append({"name": "W3 N=1e6: backward succeeds", "value": deep["status"],
                        "shown": deep["status"], "target": "ok",
                        "verdict": "PASS" if deep["status"] == "ok" else "FAIL"})
    scaling = _ratio_target("W3 t(1e6) / t(1e5), linear is 10", _seconds(deep),
                            _seconds(shallow), at_most=50, missing="needs N=1e5 and 1e6")
    targets.append(scaling)
    w4 = _cell(summary, "W4", "chainrule")
    if w4 is None:
        targets.append({"name": "W4 retained bytes per node", "value": None,
                        "shown": "n/a (W4 not measured)", "target": "<= 150", "verdict": "n/a"})
    else:
        value = w4["retained_bytes_per_node"]
        targets.append({"name": "W4 retained bytes per node", "value": value,
                        "shown": f"{value:.0f}", "target": "<= 150",
                        "verdict": "PASS" if value <= 150 else "FAIL"})
    targets += [_gradient_check(summary, workload) for workload in W1_ROWS]
    return targets


def _gradient_check(summary: Summary, workload: str) -> Record:
    """A correctness target (``"correctness": True``): a FAIL makes ``python -m bench`` exit 1."""
    record = {"name": f"{W1_ROWS[workload]} check: loss, grads vs torch-batched",
              "target": "< 1e-12", "correctness": True}
    cell = _cell(summary, workload, "chainrule")
    check = cell.get("check", {}) if cell else {}
    if check.get("status") != "ok":
        reason = check.get("status", f"{workload} of chainrule not measured")
        return {**record, "value": None, "shown": f"n/a ({reason})", "verdict": "n/a"}
    diff = check["max_abs_diff"]
    return {**record, "value": diff, "shown": f"max |diff| {diff:.2g}",
            "verdict": "PASS" if diff < 1e-12 else "FAIL"}


# ---- the table --------------------------------------------------------------------------

Row = tuple[str, str, Callable[[Record], str]]


def _number(x: float) -> str:
    """Three significant digits, without exponents for large numbers: 2,370 / 714 / 0.348."""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}"


def _ms(seconds: float) -> str:
    return _number(seconds * 1e3)


def _w3_cell(n: int) -> Callable[[Record], str]:
    def show(cell: Record) -> str:
        depth = next((d for d in cell["depths"] if d["n"] == n), None)
        if depth is None:
            return NOT_APPLICABLE
        if depth["status"] == "ok":
            return f"{_number(depth['forward_seconds'] + depth['backward_seconds'])} s"
        return depth["status"].split(" (")[0]

    return show


def _spread(cell: Record, key: str, show: Callable[[float], str]) -> str:
    low, high = cell.get("ranges", {}).get(key, (None, None))
    return "-" if low is None or cell["runs"] < 2 else f"{show(low)}-{show(high)}"


def _speedup(reference: float | None, value: float | None) -> str:
    if reference is None or value is None:
        return NOT_APPLICABLE
    return f"{_number(value / reference)}x"


def _rows(summary: Summary) -> list[Row]:
    """(workload, label, how to show a measured cell) for every row of the table."""
    w1_ours = _w1_time(summary, "chainrule")
    w2_ours = _w2_total(summary, "chainrule")
    w2t_ours = _w2_total(summary, "chainrule", "W2t")
    losses_ref = (_cell(summary, "W1", "torch-batched") or {}).get("losses")

    def loss_diff(cell: Record) -> str:
        if not losses_ref:
            return NOT_APPLICABLE
        ours = cell["losses"]
        return f"{max(abs(a - b) for a, b in zip(ours, losses_ref)):.2g}"

    def check(cell: Record) -> str:
        result = cell.get("check")
        if result is None:
            return "reference"
        return f"{result['max_abs_diff']:.2g}" if result["status"] == "ok" else result["status"]

    def nodes(cell: Record) -> str:
        count = cell["nodes_per_step"]
        return NOT_APPLICABLE if count is None else f"{count:,.0f}"

    def w4(key: str) -> Callable[[Record], str]:
        def show(cell: Record) -> str:
            value = cell[key]
            if value is None:
                return NOT_APPLICABLE
            return f"{value:.0f}" + (" *" if cell["python_side_only"] else "")
        return show

    def w1_rows(workload: str) -> list[Row]:
        ratio = "ratio to chainrule (time)" if workload == "W1" else "ratio to W1 batched (time)"
        return [
            (workload, "ms per step (median)", lambda c: _ms(c["seconds_per_step"])),
            (workload, "  min-max over repeats", lambda c: _spread(c, "seconds_per_step", _ms)),
            (workload, "  forward / backward ms",
             lambda c: f"{_ms(c['forward_seconds'])} / {_ms(c['backward_seconds'])}"),
            (workload, "  graph nodes per step", nodes),
            (workload, "  share of time in Python's GC", lambda c: f"{c['gc_share']:.0%}"),
            (workload, f"  {ratio}", lambda c: _speedup(w1_ours, c["seconds_per_step"])),
            (workload, "  step-1 grads vs torch-batched", check),
            (workload, "  12 losses vs torch-batched", loss_diff),
        ]

    return [
        *[row for workload in W1_ROWS for row in w1_rows(workload)],
        ("W2", "forward ns per node", lambda c: f"{c['forward_ns_per_node']:,.0f}"),
        ("W2", "backward ns per node", lambda c: f"{c['backward_ns_per_node']:,.0f}"),
        ("W2", "  share of time in Python's GC", lambda c: f"{c['gc_share']:.0%}"),
        ("W2", "  ratio to chainrule (time)",
         lambda c: _speedup(w2_ours, c["forward_ns_per_node"] + c["backward_ns_per_node"])),
        ("W2t", "with tanh: fwd+bwd ns per node",
         lambda c: f"{c['forward_ns_per_node'] + c['backward_ns_per_node']:,.0f}"),
        ("W2t", "  ratio to chainrule (time)",
         lambda c: _speedup(w2t_ours, c["forward_ns_per_node"] + c["backward_ns_per_node"])),
        *[("W3", f"N=1e{k}: fwd+bwd", _w3_cell(10**k)) for k in range(3, 7)],
        ("W4", "retained bytes per node", w4("retained_bytes_per_node")),
        ("W4", "  peak in backward, B/node", w4("backward_peak_bytes_per_node")),
        ("W4", "  resident (RSS) B/node", w4("rss_bytes_per_node")),
    ]


TITLES = {
    "W1": "W1 training step (100 moons, MLP 2-16-16-1, after 2 warm-up steps), batched",
    "W1p": "W1p the same, chainrule's model called once per point (float inputs)",
    "W1m": "W1m the same, in micrograd's demo code (Value inputs, builtin sum)",
    "W1c": "W1c the same step compiled (nn.compiled: traced once, generated Python)",
    "W1cp": "W1cp the same step through a compiled per-point function (engine.trace, params=)",
    "W2": "W2 random expression (+, *, relu), per op node",
    "W2t": "W2t the same with tanh (10% relu, 10% tanh)",
    "W3": "W3 deep chain x*1.0001 + 0.001",
    "W4": "W4 memory of a W2-style graph (tracemalloc)",
}


def format_table(summary: Summary, engines: list[str], workloads: list[str],
                 targets: list[Record], header: str) -> str:
    """The results (rows: measures, columns: engines), the targets, then footnotes."""
    label_width, width = 34, 17
    lines = [header, ""]
    lines.append(" " * label_width + "".join(e.rjust(width) for e in engines))
    notes: list[str] = []
    for workload in workloads:
        lines.append(TITLES[workload])
        for row_workload, label, show in _rows(summary):
            if row_workload != workload:
                continue
            cells = []
            for engine in engines:
                cell = summary.get(workload, {}).get(engine)
                cells.append(_show(cell, show, notes, workload, engine))
            if "-" in cells and set(cells) <= {"-", NOT_APPLICABLE}:
                continue  # a row with nothing to say in this run (spread of one repeat)
            lines.append(label.ljust(label_width) + "".join(c.rjust(width) for c in cells))
    lines += ["", "Targets, chainrule against the baselines of this run:"]
    name_width = max((len(t["name"]) for t in targets), default=0)
    for target in targets:
        lines.append(f"  {target['verdict']:<5} {target['name']:<{name_width}} "
                     f"{'target ' + target['target']:<15} {target['shown']}")
    notes += _w3_notes(summary, engines) + _model_notes(summary)
    if any(_cell(summary, "W4", e) and _cell(summary, "W4", e)["python_side_only"]
           for e in engines):
        notes.append("* tracemalloc sees Python objects only; torch keeps its graph in C++ "
                     "(see the RSS row).")
    if notes:
        lines += ["", "Notes:", *[f"  {n}" for n in dict.fromkeys(notes)]]
    return "\n".join(lines)


def _show(cell: Record | None, show: Callable[[Record], str], notes: list[str],
          workload: str, engine: str) -> str:
    if cell is None:
        return NOT_APPLICABLE
    status = cell.get("status")
    if status != "ok":
        if status not in ("not installed", "no tanh", NOT_APPLICABLE):
            notes.append(f"{workload} {engine}: {cell.get('error') or status}")
        return str(status) if len(str(status)) < 16 else str(status)[:13] + "..."
    if "failed_runs" in cell:
        notes.append(f"{workload} {engine}: failed in {cell['failed_runs']}")
    return show(cell)


def _w3_notes(summary: Summary, engines: list[str]) -> list[str]:
    """Why depths were not run, one line per engine and reason: "N=1e4, 1e5: skipped (...)"."""
    notes = []
    for engine in engines:
        cell = _cell(summary, "W3", engine)
        by_reason: dict[str, list[str]] = {}
        for depth in cell["depths"] if cell else []:
            if "(" in depth["status"]:
                by_reason.setdefault(depth["status"], []).append(short_count(depth["n"]))
        notes += [f"W3 {engine} N={', '.join(ns)}: {why}" for why, ns in by_reason.items()]
    return notes


def _model_notes(summary: Summary) -> list[str]:
    cells = {workload: _cell(summary, workload, "chainrule") for workload in W1_ROWS}
    return [f"{workload} chainrule model: {cell['model']}" for workload, cell in cells.items()
            if cell]
