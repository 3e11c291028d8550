"""The store: one small interface (`base.Store`), a Redis and an embedded implementation."""

from api.store.base import (
    AuditEntry,
    CancelResult,
    Capacities,
    DayState,
    DocumentKind,
    PlanMeta,
    PublishResult,
    RollbackResult,
    SaleOutcome,
    SaleRequest,
    SaleResult,
    Store,
    StoredDocument,
    StoredScenario,
    StoreLost,
    StoreUnavailable,
)

__all__ = [
    "AuditEntry",
    "CancelResult",
    "Capacities",
    "DayState",
    "DocumentKind",
    "PlanMeta",
    "PublishResult",
    "RollbackResult",
    "SaleOutcome",
    "SaleRequest",
    "SaleResult",
    "Store",
    "StoreLost",
    "StoreUnavailable",
    "StoredDocument",
    "StoredScenario",
]
