"""chainrule's engine: a scalar Value, a graph of ops, and the chain rule over it.

Read in this order:

1. ``chain_rule.py``: backpropagation in a dozen lines (``reference_backward``): it reads
   only each node's ``parents`` and its op's rule.
2. ``value.py``: the node, and every op with its derivative beside its forward;
   ``op.py``: what an op is (name, kind of node, rule), the kinds named once (``Kind``);
   ``define.py``: your own op, from a float function and its derivative.
3. ``fused.py``: a neuron or a sum as one node.
4. ``record.py``: how every node is made (numbered, its older inputs noted, put on the
   tape), in one place; ``tape.py``: the nodes in the order they were made.
5. ``autograd.py``: the same backward, fast (and ``grad``), reading the tape or searching
   the graph's storage; ``mode.py`` (no_grad and anomaly detection, per thread).
6. ``program.py``: the same backward written out as a Python program (``trace``).
7. ``ieee.py`` (float maths that never raises), ``gradcheck.py`` (derivatives checked with
   finite differences), ``testing.py`` (hypothesis strategies).
"""

from engine.autograd import grad
from engine.chain_rule import (
    backward_order,
    contributions,
    local_derivatives,
    reference_backward,
)
from engine.define import define_op
from engine.fused import detached_max, dot, linear, linear_batch, vsum
from engine.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from engine.mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from engine.program import Program, trace
from engine.value import Value

__all__ = [
    "GradcheckError",
    "Program",
    "Value",
    "backward_order",
    "contributions",
    "define_op",
    "detached_max",
    "detect_anomaly",
    "dot",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "linear",
    "linear_batch",
    "local_derivatives",
    "no_grad",
    "numerical_grad",
    "reference_backward",
    "trace",
    "vsum",
]
