"""The store: one small interface (`base.Store`), a Redis and an embedded implementation."""

from api.store.base import (
    AuditEntry,
    CancelResult,
    DayState,
    DocumentKind,
    PlanMeta,
    PublishResult,
    RollbackResult,
    SaleRequest,
    SaleResult,
    Store,
    StoredDocument,
    StoredScenario,
    StoreUnavailable,
)

__all__ = [
    "AuditEntry",
    "CancelResult",
    "DayState",
    "DocumentKind",
    "PlanMeta",
    "PublishResult",
    "RollbackResult",
    "SaleRequest",
    "SaleResult",
    "Store",
    "StoreUnavailable",
    "StoredDocument",
    "StoredScenario",
]
