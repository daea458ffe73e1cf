import sys

from lossy_desktop.cli import main

sys.exit(main())
