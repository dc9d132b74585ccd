"""python -m cardak.cli: the same as the `cardak` command."""

from cardak.cli.main import main

main()
