"""The notebooks, shipped inside the package as ``audit_analysis.notebooks`` so that an
installed suite finds them with importlib.resources (``audit_analysis.runner``). Open and
edit them here; ``audit-analysis notebooks --out DIR`` copies them for an installed user."""
