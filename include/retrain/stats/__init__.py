"""Statistics of holdout metrics: resampling plans, count-weighted metrics, bootstrap intervals.

``resampling`` draws bootstrap resamples as count matrices (plain, or a bag of little
bootstraps on a large holdout), ``weighted`` turns a model's holdout outputs into per-row terms
whose count-weighted sums give any resample's metrics, and ``bootstrap`` builds the metric
intervals evaluate reports and the paired test promotion relies on.
"""
