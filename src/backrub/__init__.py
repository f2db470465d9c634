"""backrub: a guided, seated, clothed back massage, from the method as data to live guides."""

__version__ = "0.1.0"
