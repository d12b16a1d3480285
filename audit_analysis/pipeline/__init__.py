"""Running things: the annual run (parallel notebooks, atomic publish), the notebook
session, the ``validate`` report and the command line.
"""

__all__: list[str] = []  # a layer: import its modules by name
