"""Ops made with ``define_op`` from module-level functions, as a user would write them.

Shared by the tests of define_op, gradgradcheck and check_gradients. The derivatives are
written with the ops themselves (``cos`` in sin's, ``-sin`` in cos's), so they can be
differentiated again, and being module-level functions the ops can be pickled.
"""

from __future__ import annotations

import math

from engine import define_op


def sin_derivative(x, out):
    return cos(x)


def cos_derivative(x, out):
    return -sin(x)


def hypot_derivative(x, y, out):
    return x / out, y / out


sin = define_op("sin", math.sin, sin_derivative)
cos = define_op("cos", math.cos, cos_derivative)
hypot = define_op("hypot", math.hypot, hypot_derivative)
