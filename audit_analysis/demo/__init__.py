"""The synthetic demo data (``audit-analysis demo-data``): apart from the library,
which never imports it."""

from audit_analysis.demo.generator import CYCLES, generate
from audit_analysis.demo.thematic import generate_thematic

__all__ = ["CYCLES", "generate", "generate_thematic"]
