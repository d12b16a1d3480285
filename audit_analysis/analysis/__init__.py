"""Numbers only, no words and no display: statistics, case-level inference, summaries,
trends, agreement, data-quality measures and disclosure control. Imports ``io`` only.
"""

__all__: list[str] = []  # a layer: import its modules by name
