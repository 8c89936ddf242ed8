"""Results of a trained model: saved predictions, thresholds, per-language metrics, statistics, cards and reports."""
