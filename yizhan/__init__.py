"""The ``yizhan`` command line (``yizhan.cli``): an adapter over the domain (``stations``) and the site (``web``).

``stations`` knows nothing of this package or of ``web``; this package imports what it starts.
"""
