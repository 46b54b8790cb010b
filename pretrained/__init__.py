"""Shipped weights and policies; installed as the package ``style_wrap.pretrained``."""
