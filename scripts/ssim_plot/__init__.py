"""Figures and the HTML report of a systolic-sim run folder (docs/report-format.md).

rundata   reads and checks layers.csv and summary.json (standard library only)
views     what the figures show of a run: roofline numbers, op groups, network layers (stdlib)
units     number formatting (standard library only)
launch    one-line failures, the matplotlib probe, re-running under Debian's python3 (stdlib)
figures   the roofline, utilization, time- and energy-breakdown figures (matplotlib)
page      the self-contained report.html (standard library only)
"""
