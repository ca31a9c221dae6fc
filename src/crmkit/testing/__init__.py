"""Test support for storage adapters: the storage contract suite, shipped with crmkit.

Only tests import this package (it needs pytest and hypothesis, from the ``test`` extra).
Subclass `StoreContract` to run the whole contract against an adapter, `KindContract` to
hold a kind added to the registry to it, and build a Hypothesis state machine for a store with
`store_state_machine`.
"""

import pytest

# Plain asserts in the shipped contract should explain themselves like asserts in tests do.
pytest.register_assert_rewrite(
    "crmkit.testing.compare",
    "crmkit.testing.contract",
    "crmkit.testing.kind_contract",
    "crmkit.testing.stateful",
)

from crmkit.testing.compare import assert_identical, differences  # noqa: E402
from crmkit.testing.contract import ContractEvent, StoreContract  # noqa: E402
from crmkit.testing.kind_contract import KindContract  # noqa: E402
from crmkit.testing.records import KINDS, START, Seed, maximal, minimal, seed  # noqa: E402
from crmkit.testing.stateful import store_state_machine  # noqa: E402

__all__ = [
    "KINDS",
    "START",
    "ContractEvent",
    "KindContract",
    "Seed",
    "StoreContract",
    "assert_identical",
    "differences",
    "maximal",
    "minimal",
    "seed",
    "store_state_machine",
]
