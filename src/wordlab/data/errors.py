"""The one exception type for bad input data."""


class DataError(ValueError):
    """Input data is missing, malformed or inconsistent; the message names the file or field."""
