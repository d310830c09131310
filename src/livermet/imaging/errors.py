"""The one error type for bad imaging input."""

from __future__ import annotations

from typing import Any


class ImagingInputError(ValueError):
    """An image, mask or option that livermet cannot use as given.

    ``field`` names the input (``labels``, ``mask liver``, ``labelset``...), ``value`` what was
    received and ``expected`` what would work; the message says all three so the user can fix it.
    """

    def __init__(self, field: str, value: Any, expected: str):
        self.field = field
        self.value = value
        self.expected = expected
        # an input that is absent has no "=value" to show
        super().__init__(f"{field}: expected {expected}" if value is None
                         else f"{field}={value}: expected {expected}")

    def __reduce__(self):
        # rebuilt from its three parts when it crosses a process boundary (a volumetry job run
        # in a process pool): the default would call __init__ with the message alone and fail
        return (type(self), (self.field, self.value, self.expected))
