"""The frozen app's entry point (build.spec): the same `lossy-desktop` command as pip installs."""

import multiprocessing
import sys

from lossy_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
