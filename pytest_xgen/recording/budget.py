"""The run's cost budget (``--xgen-max-cost``), shared by pytest-xdist workers through the
store.

Each live call sets aside the most it may cost before it is made and settles what it cost
after. The shared count is a diskcache integer (``incr`` is atomic across processes),
counted in :data:`SCALE` units to the budget: an amount is a share of the budget, not a
sum of currency, so any price and any budget keep the count small. One amount counts for
at most :data:`CAP` units (a thousand budgets; such a call is refused anyway), so the
count stays far inside SQLite's 64-bit integers whatever a price or a usage says.
"""

from __future__ import annotations

import math

from pytest_xgen.recording.store import Store

SCALE = 10**12  # units in the whole budget
CAP = 1000 * SCALE  # the most units one amount counts for


class CostBudget:
    """A budget of ``limit`` (in the models' price currency) spent by every process that
    shares ``store`` and ``key``."""

    def __init__(self, store: Store, key: str, limit: float) -> None:
        self.store = store
        self.key = key
        self.limit = limit

    def units(self, amount: float) -> int:
        """``amount`` in units of the budget, rounded up and at most :data:`CAP`; 0 for an
        amount that is not positive."""
        if not amount > 0:
            return 0
        share = amount / self.limit * SCALE if self.limit > 0 else math.inf
        return math.ceil(share) if share < CAP else CAP

    def amount(self, units: int) -> float:
        """The amount of ``units`` (the inverse of :meth:`units`, to the unit)."""
        return units * self.limit / SCALE

    def reserve(self, amount: float) -> int | None:
        """Set aside ``amount`` when what is spent and set aside leaves room for it, and
        return the units set aside; ``None`` when it does not (nothing is kept). A free
        call (``amount`` 0) always has room."""
        units = self.units(amount)
        if not units:
            return 0
        with self.store.writing:
            total = int(self.store.cache.incr(self.key, units, default=0))
            if total > SCALE:
                self.store.cache.decr(self.key, units)
                return None
        return units

    def settle(self, reserved: int, amount: float) -> None:
        """Replace the ``reserved`` units of a call by what it cost, ``amount``."""
        delta = self.units(amount) - reserved
        if delta:
            with self.store.writing:
                self.store.cache.incr(self.key, delta, default=0)

    def spent(self) -> float:
        """The amount spent or set aside so far."""
        return self.amount(int(self.store.cache.get(self.key, default=0)))

    def release(self) -> None:
        """Forget the count (the run is over)."""
        self.store.delete(self.key)
