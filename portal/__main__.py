"""`python -m portal` runs the same CLI as `portal`."""

from portal.cli import main

main()
