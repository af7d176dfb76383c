"""devolve: the open planning-and-finance engine for devolved, integrated health and social care.

The one call most users need::

    import devolve
    deal = devolve.load_deal("greater-manchester-2016")
"""

from devolve.domain.errors import DevolveError, PackError
from devolve.packs.loader import load_deal

__all__ = ["DevolveError", "PackError", "load_deal", "__version__"]
__version__ = "0.1.0"
