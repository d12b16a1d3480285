from audit_analysis.pipeline.cli import main

__all__ = []


raise SystemExit(main())
