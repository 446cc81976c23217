from lfpk.entry.cli.main import main

raise SystemExit(main())
