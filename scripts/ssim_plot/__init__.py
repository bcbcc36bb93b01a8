"""Figures and the HTML report of a systolic-sim run folder (docs/report-format.md).

rundata   reads and checks layers.csv and summary.json (standard library only)
views     what the figures show of a run: roofline numbers, op groups, network layers (stdlib)
units     number formatting (standard library only)
launch    one-line failures, the matplotlib probe, re-running under Debian's python3 (stdlib)
figures   the roofline, utilization, time- and energy-breakdown figures (matplotlib)
drawing   the style, saving SVG+PNG, short labels, label placement (matplotlib)
sweep_data     a sweep folder read and checked (standard library only)
sweep_figures  the sweep figures (matplotlib, imported when a figure is built)
sweep_page     the sweep's report.html (standard library only)
page      the self-contained report.html (standard library only)
"""
