"""chainrule's engine: a scalar Value, a graph of ops, and the chain rule over it.

Read in this order: ``ieee.py`` (float math that never raises), ``value.py`` (the node and
every op with its derivative), ``fused.py`` (a neuron or a sum as one node), ``autograd.py``
(backward and grad), ``tape.py`` (the list of nodes backward walks), ``mode.py`` (no_grad
and anomaly detection), ``gradcheck.py`` (checking derivatives with finite differences).
"""

from engine.autograd import backward_order, contributions, grad, local_derivatives
from engine.fused import dot, linear, linear_batch, vsum
from engine.gradcheck import GradcheckError, gradcheck, numerical_grad
from engine.mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from engine.value import Value

__all__ = [
    "GradcheckError",
    "Value",
    "backward_order",
    "contributions",
    "detect_anomaly",
    "dot",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "linear",
    "linear_batch",
    "local_derivatives",
    "no_grad",
    "numerical_grad",
    "vsum",
]
