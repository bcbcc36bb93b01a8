"""Figures and the HTML report of a systolic-sim run folder (docs/report-format.md).

rundata   reads and checks layers.csv and summary.json (standard library only)
units     number formatting (standard library only)
figures   the roofline, utilization and time-breakdown figures (matplotlib)
page      the self-contained report.html (standard library only)
"""
