"""Showing results: charts, display labels, the notebook report (tables, charts with alt
text), the offline HTML page, the PDF and the formula-safe CSV. Imports ``analysis`` and
``io``.
"""

__all__: list[str] = []  # a layer: import its modules by name
