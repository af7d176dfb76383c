"""Fiscal levers: a devolved health tax and a business-rates discount for healthy workplaces.

Pure functions over the deal's dated ``fiscal.*`` parameters; the forecast calls them inside each
Monte Carlo run. The method is in ``docs/method/fiscal.md``.
"""

from devolve.engines.fiscal.levers import (FiscalLevers, RatesDiscountOutcome, health_tax_revenue, rates_discount,
                                           read_levers)

__all__ = ["FiscalLevers", "RatesDiscountOutcome", "health_tax_revenue", "rates_discount", "read_levers"]
