"""`python -m backrub` runs the command line."""

from backrub.cli.start import main

main()
