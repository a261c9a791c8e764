"""`python -m portal` runs the same CLI as `portal`."""

from portal.cli import main

if __name__ == "__main__":  # a spawned worker process (search rebuild) imports this module too
    main()
