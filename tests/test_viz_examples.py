"""viz.examples: the command that regenerates the pictures in docs/img.

    python -m viz.examples docs/img
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from viz.examples import neuron

ROOT = Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")


def test_the_example_neuron_has_the_lectures_gradients():
    o, (w1, w2, b) = neuron()
    o.backward()
    # o = tanh(n) with n = 0.8814: do/dn = 1 - 0.7071^2 = 0.5; x1 = 2, x2 = 0.
    assert o.data == pytest.approx(2**-0.5, rel=1e-6)
    assert (w1.grad, w2.grad, b.grad) == pytest.approx((1.0, 0.0, 0.5), rel=1e-6)


def shape(svg):
    """How many nodes, edges and labelled values a picture has (not its exact bytes)."""
    return (svg.count('class="node"'), svg.count('class="edge"'),
            sorted(re.findall(r"grad (-?[\d.]+)", svg)))


@needs_dot
def test_the_command_writes_both_pictures_like_the_committed_ones(tmp_path):
    result = subprocess.run([sys.executable, "-m", "viz.examples", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == [str(tmp_path / "neuron_forward.svg"),
                                     str(tmp_path / "neuron_backward.svg")]
    for name in ("neuron_forward.svg", "neuron_backward.svg"):
        fresh = (tmp_path / name).read_text()
        assert fresh.lstrip().startswith("<?xml") and shape(fresh)[0] == 10 + 5
        committed = ROOT / "docs" / "img" / name
        assert shape(committed.read_text()) == shape(fresh), f"{committed} is stale"
