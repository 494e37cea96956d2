"""一网统管 operations dashboard: the product's core (data, ingestion, jobs). Never imports Dash."""

__version__ = "0.1.0"
