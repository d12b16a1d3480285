"""Reading a cycle folder: cycle names, frameworks, the agency register, rating spellings,
workbook and bulk-table readers, the optional records, the development record, the
schemas and ``load_cycle``. Imports nothing of the layers above.
"""

__all__: list[str] = []  # a layer: import its modules by name
