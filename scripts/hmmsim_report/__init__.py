"""The code of `hmmsim report` (scripts/report.py is the entry point).

stats_files  reading stats.json, config.json, sweep.json; bad input (ReportError)
html_page    escaping, number formats, the page's frame and style, writing it
plotter      matplotlib made deterministic, figures as embedded PNGs
run_plots    a run's plots
run_page     a run's page
sweep_page   a sweep's page
"""
