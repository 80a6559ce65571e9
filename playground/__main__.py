"""``python -m playground``: see ``playground.cli``."""

import sys

from playground.cli import main

sys.exit(main(prog="python -m playground"))
