"""Judging translators: paired image metrics against the true render, policy episodes through
a translator (the demo, choosing among exports), speed (bench) and files (translate).

Each module is imported on use by the command that needs it; nothing here is imported by
``import style_wrap``.
"""
