"""The deterministic demo data set."""

from portal.demo.load import DemoReport, load_demo

__all__ = ["DemoReport", "load_demo"]
