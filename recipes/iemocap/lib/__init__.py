"""What the stages are built from: corpus reading, data, model, features, metrics, runtime."""
