"""The report sections: sentences beside the numbers they describe (``findings``), the
executive summary and the case pack. Imports the layers below.
"""

__all__: list[str] = []  # a layer: import its modules by name
