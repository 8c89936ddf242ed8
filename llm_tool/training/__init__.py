"""Training: model and Trainer from a session, checkpoints, resume, the saved model, inference, evaluation on a file."""
