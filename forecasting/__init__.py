"""Demand forecasting (issue 4)."""
