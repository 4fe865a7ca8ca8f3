from __future__ import annotations

import pytest

from silkway.bootstrap import TransitPlaces
from silkway.places.reference import ReferenceData


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    return ReferenceData.load()


@pytest.fixture(scope="session")
def places(reference: ReferenceData) -> TransitPlaces:
    """The real offices, crossings, HS codes and currencies, as the transit domain asks for them."""
    return TransitPlaces(reference)
