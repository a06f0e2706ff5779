"""runoffbench: benchmark rainfall-runoff models on CAMELS-US the way the literature does."""

__version__ = "0.1.0"
