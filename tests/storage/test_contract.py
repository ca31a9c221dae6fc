"""The storage contract (crmkit.testing.StoreContract), run against every adapter."""

from __future__ import annotations

import pytest

from crmkit.clock import FixedClock
from crmkit.storage.protocol import Store
from crmkit.testing import StoreContract


class TestContract(StoreContract):
    @pytest.fixture(autouse=True)
    def _use_adapter(self, adapter):
        self._adapter = adapter

    def make_store(self, clock: FixedClock) -> Store:
        return self._adapter.make(clock)

    def reopen_store(self, store: Store, clock: FixedClock) -> Store | None:
        return self._adapter.reopen(store, clock)
