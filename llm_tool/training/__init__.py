"""Training: build model and Trainer from a session, checkpoint, resume, evaluate, save, and infer."""
