"""CycleGAN training: settings (config), losses, the model and its step (model), the run
(loop), logs."""
