"""shre-glue: BERT text encoders and the GLUE benchmark tasks for shre.

The plugin module is ``shre_glue.plugin`` (entry point ``glue`` in the
``shre`` group). Importing this package imports no torch.
"""

__version__ = "0.1.0"
