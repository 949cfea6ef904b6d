"""Image-caption data: file readers, map-style and streaming datasets, transforms, collation."""
