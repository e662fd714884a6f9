"""mtlsearch: search for the dataset combination that makes multi-task instruction tuning best."""

__version__ = "0.1.0"
