"""The QA analyst's explorer (issues 12 and 21): "what got worse, where, and why",
looked into with controls, not code.

``explorer(data_dir, cycle)`` loads the cycles found in ``data_dir`` and gives back an
:class:`Explorer`. Its first view, *What changed*, sets each standard's change in the
share rated good against a chosen earlier cycle for every agency (or priority
theme), with the trends page's interval and verdict rule, sortable by change and
filterable to clear changes; picking a cell shows its cases and the evidence behind the
ratings in both cycles. The other views: the share rated good with its interval
and the rating distribution, the same by agency and over the cycles, the cases behind a
selection, one case's ratings and evidence, and the disagreements between agencies.
Tables export to CSV and charts to PNG and SVG, owner-only.

The package, in three parts:

* :mod:`.state`: what the controls say (:class:`Selection`), the cycles a folder holds
  (:func:`available_cycles`) and each cycle counted once into an array of case x agency
  x standard x rating, from which a selection's tally is read (:func:`tally_selection`:
  ``tests/test_explore.py`` checks it equals
  :func:`~audit_analysis.analysis.summaries.tally`), so a redraw takes a fraction of a
  second on a national table;
* :mod:`.changes` and :mod:`.views`: each view as the section blocks
  (:mod:`audit_analysis.render.section`) that the one renderer draws, computed without
  widgets, with the pages' words, labels and charts;
* :mod:`.widgets`: :class:`Explorer` and its ipywidgets controls for JupyterLab
  (``notebooks/00-explore.ipynb``); where no widget manager can show them, a message and
  static tables.

**For the QA group only.** It names cases and quotes evidence: a banner says so, and it
is never part of the annual run or the Executive Group's page. Every text is escaped by
the renderer; its CSV exports are formula-safe (:mod:`audit_analysis.render.outputs`) and
every file it writes is named by :func:`audit_analysis.paths.safe_name`.
"""

from audit_analysis.explore.state import (
    BANNER,
    NO_MATCH,
    NO_WIDGETS,
    VIEWS,
    Selection,
    available_cycles,
    tally_selection,
)
from audit_analysis.explore.views import View
from audit_analysis.explore.widgets import Explorer, explorer

__all__ = [
    "BANNER",
    "NO_MATCH",
    "NO_WIDGETS",
    "VIEWS",
    "Explorer",
    "Selection",
    "View",
    "available_cycles",
    "explorer",
    "tally_selection",
]
