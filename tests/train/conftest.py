"""Makes the repo and this folder importable (train_testlib, run_launch)."""

import os
import sys

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                os.path.dirname(os.path.abspath(__file__))]

import train_testlib  # noqa: E402,F401  pylint: disable=g-import-not-at-top,wrong-import-position
