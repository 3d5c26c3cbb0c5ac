"""`python -m smartlap` is the same as the `smartlap` command."""

from smartlap.cli import main

raise SystemExit(main())
