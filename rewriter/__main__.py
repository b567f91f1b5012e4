from __future__ import annotations

import sys

from rewriter.cli import main

sys.exit(main(sys.argv[1:]))
