"""``pos-app doctor``: checks of this till and their probes."""
