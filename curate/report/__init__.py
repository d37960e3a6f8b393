"""The dataset report: one self-contained HTML file with charts (`write_report`)."""

from curate.report.html import build_report, write_report

__all__ = ["build_report", "write_report"]
