"""The store: one small interface (`base.Store`), a Redis and an embedded implementation."""

from api.store.base import (
    AuditEntry,
    CancelResult,
    DayState,
    PlanMeta,
    PublishResult,
    RollbackResult,
    SaleRequest,
    SaleResult,
    Store,
    StoredHistory,
    StoredScenario,
    StoreUnavailable,
)

__all__ = [
    "AuditEntry",
    "CancelResult",
    "DayState",
    "PlanMeta",
    "PublishResult",
    "RollbackResult",
    "SaleRequest",
    "SaleResult",
    "Store",
    "StoreUnavailable",
    "StoredHistory",
    "StoredScenario",
]
