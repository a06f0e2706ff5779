"""Evaluation: per-basin metrics (:mod:`runoffbench.evaluation.metrics`) and metrics across basins
(:mod:`runoffbench.evaluation.across_basins`, :mod:`runoffbench.evaluation.information`)."""
