"""The demo: a realistic sample CRM from a seed, and the whole story told on it.

`crmkit.demo.sample.build_sample_crm` fills a store; `crmkit.demo.story.run_demo` builds it
and uses crmkit on it as an app would, returning a `DemoReport`. ``crmkit demo`` prints it.
"""

from crmkit.demo.sample import NOW, SIZES, SampleSummary, build_sample_crm
from crmkit.demo.story import DemoReport, run_demo

__all__ = ["NOW", "SIZES", "DemoReport", "SampleSummary", "build_sample_crm", "run_demo"]
