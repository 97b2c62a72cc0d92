"""`python -m schemasync` runs the CLI (the collector is off from the first import: see cli.main)."""

import gc

gc.disable()

from schemasync.cli import main

main()
