"""The HTML report: the JSON run report as one self-contained page.

Everything is inline (CSS, SVG, a few lines of script that only help printing), so the file
can be attached to a CI run or opened offline and still look the same; the page never
refers to anything outside itself. Every string that comes from the run (prompts, model
outputs, model names, node ids) goes through ``html.escape``.

The page (:mod:`.page`) is made of sections (:mod:`.run`, :mod:`.comparison`,
:mod:`.agreement`, :mod:`.details`); a check in the drill-down is rendered by the function
its kind's row in :data:`pytest_xgen.checks.kinds.KINDS` names (``html``), one module here
per group of kinds (:mod:`.transfer`, :mod:`.invariance`, :mod:`.interventions`,
:mod:`.review`, :mod:`.weak`).
"""

from pytest_xgen.report.html.escape import render_diff, strike_removed
from pytest_xgen.report.html.page import render_html
from pytest_xgen.report.html.pooled import pooled_agreement, transfer_matrix

__all__ = ["pooled_agreement", "render_diff", "render_html", "strike_removed", "transfer_matrix"]
