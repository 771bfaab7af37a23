"""`python -m typed_inference`: the `typed-inference` command, for an environment whose scripts are not on PATH."""

import sys

from typed_inference.cli import main

sys.exit(main())
