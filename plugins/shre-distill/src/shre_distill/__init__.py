"""shre-distill: SHRe multimodal distillation, image-text retrieval and zero-shot evaluation.

Importing this package imports no torch; the plugin hooks live in
``shre_distill.plugin`` and the components in their own modules.
"""

__version__ = "0.1.0"
