"""Training of the ``nn`` models: settings, data path, losses, trainer, prediction, one run end to end."""
