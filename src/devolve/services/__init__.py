"""Use cases that combine packs, data and engines: the one thing interfaces call.

One module per capability (deals, and each engine or service as it lands); the functions are
re-exported here so interfaces write ``services.deal_summary(...)``.
"""

from devolve.services.deals import deal_summary, list_deals, load, new_deal, parameter_table, validate
from devolve.services.pipeline import STAGES, RunResult, RunSettings, run_pipeline

__all__ = ["STAGES", "RunResult", "RunSettings", "deal_summary", "list_deals", "load", "new_deal", "parameter_table", "run_pipeline",
           "validate"]
