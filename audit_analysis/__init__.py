"""audit-analysis: a partnership's multi-agency case audit, from returns to findings."""

from .dataset import CycleData, load_cycle
from .exceptions import AuditDataError

__version__ = "0.1.0"
__all__ = ["AuditDataError", "CycleData", "__version__", "load_cycle"]
