"""Cycle administration: the toolkit templates sent to agencies, the workbook writer and
``new-cycle``.
"""

__all__: list[str] = []  # a layer: import its modules by name
