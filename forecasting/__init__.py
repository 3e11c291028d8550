"""Demand forecasting (issue 4): sales history in, Forecast JSON out.

- `history`: the History and Calendar CSV contracts, checked line by line.
- `features`, `design`: covariates x_d, day types and the arrays the model fits on.
- `counts`: Poisson / negative-binomial likelihoods with censoring for sold-out slots.
- `model`: the MNL demand model (joint maximum likelihood) and its seasonal fallback.
- `forecast`: Forecast JSON. `backtest`: rolling-origin scores against baselines.
- `world`: a synthetic venue with known true demand, for demos, tests and benchmarks.

Only `pricing`, numpy, scipy, statsmodels (and matplotlib for plots) are imported here.
"""
