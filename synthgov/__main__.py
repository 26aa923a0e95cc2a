from synthgov.cli import main

raise SystemExit(main())
