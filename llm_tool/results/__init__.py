"""Results of a trained model: metrics, saved predictions, thresholds, per-language metrics, stats, card, report."""
