from lfpk.cli import main

raise SystemExit(main())
