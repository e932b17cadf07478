"""The Explorer's parts: images, lenses, classifier, search, jobs (see `explorer.py`)."""
