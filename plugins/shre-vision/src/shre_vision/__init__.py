"""shre-vision: image encoders, the ``norm-linear`` head and image classification tasks.

The plugin module (``shre_vision.plugin``) is the ``vision`` entry point of the
``shre`` group. This package imports nothing heavy, so ``shre list`` stays fast;
import the submodules (``shre_vision.encoders``, ``shre_vision.teacher``...)
for the torch-based parts.
"""

__version__ = "0.1.0"
