"""Shared test setup: Hypothesis profiles and the PostgreSQL DSN fixture."""

from __future__ import annotations

import os
import random
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, settings

POSTGRES_DSN_ENV = "CRMKIT_TEST_POSTGRES_DSN"

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    print_blob=True,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)

HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(HYPOTHESIS_PROFILE)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Under the ci profile, run every Hypothesis test from one seed that the header prints.

    The seed is random per run unless HYPOTHESIS_SEED (or --hypothesis-seed) names one, so a
    failure in CI is reproduced with ``HYPOTHESIS_SEED=<seed> HYPOTHESIS_PROFILE=ci pytest``.
    """
    if HYPOTHESIS_PROFILE != "ci" or config.getoption("hypothesis_seed", None) is not None:
        return
    config.option.hypothesis_seed = os.environ.get("HYPOTHESIS_SEED") or str(
        random.randrange(2**32)
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"hypothesis profile: {HYPOTHESIS_PROFILE}"]
    seed = config.getoption("hypothesis_seed", None)
    if seed is not None:
        lines.append(f"hypothesis seed: {seed} (rerun with HYPOTHESIS_SEED={seed})")
    if HYPOTHESIS_PROFILE == "ci":
        lines.append("hypothesis: failing examples also print a @reproduce_failure blob")
    return lines


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """Return the PostgreSQL DSN; skip when unset, fail when set but unreachable."""
    dsn = os.environ.get(POSTGRES_DSN_ENV)
    if not dsn:
        pytest.skip(f"{POSTGRES_DSN_ENV} is not set: PostgreSQL tests skipped")
    parts = urlsplit(dsn)
    query_host = parse_qs(parts.query).get("host", [""])[0]
    host = parts.hostname or query_host or "localhost"
    try:
        port = parts.port or 5432
    except ValueError as e:
        pytest.fail(f"{POSTGRES_DSN_ENV} has an invalid port: {dsn!r} ({e})")
    try:
        if host.startswith("/"):  # a Unix-domain socket directory
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(3)
                sock.connect(f"{host}/.s.PGSQL.{port}")
        else:
            with socket.create_connection((host, port), timeout=3):
                pass
    except OSError as e:
        pytest.fail(
            f"{POSTGRES_DSN_ENV} is set but PostgreSQL at {host}:{port} is unreachable: {e}. "
            f"Start the server or unset {POSTGRES_DSN_ENV} to skip the PostgreSQL tests."
        )
    return dsn
