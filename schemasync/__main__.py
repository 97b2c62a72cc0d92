"""`python -m schemasync` runs the CLI (the collector is off from the first import: see cli.main)."""

import gc

gc.disable()

from schemasync.cli import main  # noqa: E402  (after gc.disable(), on purpose)

main()
