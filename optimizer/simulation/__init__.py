"""Seasons simulated against a demo world's truth: how we know a plan earns its keep.

The world's true demand (world_truth), the booking season played against plans (simulate), the
plan set against every flat price (comparison) and the plan re-solved in season (reoptimise).
The LP in optimizer/ imports nothing from here.
"""
