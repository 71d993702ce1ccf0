from blindrefusal.cli import main

raise SystemExit(main())
