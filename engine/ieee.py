"""Float math that never raises: IEEE 754 results, like PyTorch's float64 tensors.

Python's ``math`` module raises where IEEE arithmetic returns a special value:
``math.log(0)`` raises instead of giving ``-inf``, ``math.exp(1000)`` raises instead of
giving ``inf``, ``1.0 / 0.0`` raises instead of giving ``inf``. A neural network meets these
edges all the time (a saturated sigmoid, a log of a probability that rounded to zero), and
PyTorch answers with ``inf`` or ``nan`` so that the caller can decide what to do. Every op
in ``engine`` computes through these functions so that it gives the same answers.
"""

from __future__ import annotations

import math

inf = math.inf
nan = math.nan


def div(a: float, b: float) -> float:
    """a / b, with IEEE results for b == 0: +-inf for a != 0 (sign of a*b), nan for 0/0."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or math.isnan(a):
            return nan
        return math.copysign(inf, a) * math.copysign(1.0, b)


def exp(x: float) -> float:
    """e**x, giving inf on overflow (x > 709.78...)."""
    try:
        return math.exp(x)
    except OverflowError:
        return inf


def log(x: float) -> float:
    """Natural log: -inf at 0 (either sign of zero), nan below 0 and at nan."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -inf
    return nan


def sqrt(x: float) -> float:
    """Square root: nan below 0; sqrt(-0.0) is -0.0 as IEEE says."""
    return math.sqrt(x) if x >= 0.0 else nan


def sin(x: float) -> float:
    """sin x; nan at +-inf and nan (where ``math.sin`` raises)."""
    return math.sin(x) if math.isfinite(x) else nan


def cos(x: float) -> float:
    """cos x; nan at +-inf and nan (where ``math.cos`` raises)."""
    return math.cos(x) if math.isfinite(x) else nan


def log1p(x: float) -> float:
    """ln(1 + x), accurate near 0; -inf at -1, nan below -1 and at nan."""
    if x > -1:
        return math.log1p(x)
    if x == -1:
        return -inf
    return nan


def leaky_relu(x: float, negative_slope: float) -> float:
    """x where x > 0, else negative_slope * x (PyTorch's order: -0.0 stays -0.0)."""
    return x if x > 0.0 else x * negative_slope


def elu(x: float, alpha: float) -> float:
    """x where x > 0, else alpha * (e**x - 1), with e**x - 1 as expm1 (exact near 0)."""
    return x if not x <= 0.0 else math.expm1(x) * alpha


def softplus(x: float, beta: float, threshold: float) -> float:
    """ln(1 + e**(beta x)) / beta, or x itself where beta * x > threshold (PyTorch's rule)."""
    return x if x * beta > threshold else log1p(exp(x * beta)) / beta


def gelu(x: float) -> float:
    """x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), in PyTorch's expression order."""
    return x * 0.5 * (1.0 + math.erf(x * SQRT1_2))


def gelu_tanh(x: float) -> float:
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))): GELU's tanh approximation."""
    inner = GELU_TANH_BETA * (x + GELU_TANH_KAPPA * (x * x * x))
    return 0.5 * x * (1.0 + math.tanh(inner))


SQRT1_2 = math.sqrt(0.5)
GELU_TANH_BETA = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5  # sqrt(2 / pi)
GELU_TANH_KAPPA = 0.044715


def sigmoid(x: float) -> float:
    """1 / (1 + e**-x), in exactly PyTorch's expression order (so results agree to the bit).

    For x below about -709, e**-x overflows to inf and the result is 0.0, never an error.
    """
    return 1.0 / (1.0 + exp(-x))


def _is_odd_integer(e: float) -> bool:
    return e == int(e) and int(e) % 2 == 1 if math.isfinite(e) else False


def general_pow(x: float, e: float) -> float:
    """x**e with IEEE edges: a negative base to a fractional power is nan (never complex),
    0 to a negative power is inf (-inf for -0.0 and an odd integer power), overflow is +-inf."""
    try:
        return math.pow(x, e)
    except OverflowError:
        return -inf if x < 0.0 and _is_odd_integer(e) else inf
    except ValueError:
        if x == 0.0:
            return math.copysign(inf, x) if _is_odd_integer(e) else inf
        return nan


def pow(x: float, e: float) -> float:
    """x**e for a constant exponent e, with PyTorch's shortcuts so results match it bit for bit.

    Python's own ``x**e`` differs from PyTorch in the last bit surprisingly often, because
    PyTorch special-cases the common exponents:

    ====  =================  ====  ===============
    e     computed as        e     computed as
    ====  =================  ====  ===============
    0     1.0                -1    1 / x
    1     x                  2     x * x
    0.5   sqrt(x)            -2    1 / (x * x)
    -0.5  1 / sqrt(x)        3     x * x * x
    ====  =================  ====  ===============

    Any other exponent goes to :func:`general_pow`.
    """
    if e == 2.0:
        return x * x
    if e == 1.0:
        return x
    if e == 0.0:
        return 1.0
    if e == 3.0:
        return x * x * x
    if e == -1.0:
        return div(1.0, x)
    if e == 0.5:
        return sqrt(x)
    if e == -0.5:
        return div(1.0, sqrt(x))
    if e == -2.0:
        return div(1.0, x * x)
    return general_pow(x, e)


def sign(x: float) -> float:
    """-1.0, 0.0 or 1.0: the slope of |x|, with 0 at the kink like PyTorch.

    nan gives 0.0 too, as PyTorch's sign (x > 0) - (x < 0) does, so |x|'s gradient at nan is 0.
    """
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return 0.0
