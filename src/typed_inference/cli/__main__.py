"""`python -m typed_inference.cli`: the `typed-inference` command."""

import sys

from typed_inference.cli import main

sys.exit(main())
