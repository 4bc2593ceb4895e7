"""``teer report``: one self-contained HTML page to browse where the errors are.

``timeline`` turns the sweep of a scoring run into each file's timeline data;
``page`` writes the page (summary, per-file table, the tables of ``teer analyze``
and the timelines, drawn by ``report.js`` as plain SVG). The page needs no network.
"""
