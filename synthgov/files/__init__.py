"""The governance files on disk: safe loading and writing, paths that stay inside the
repository, the layout (where each kind lives, and the `Release` id), JSON Schemas,
cross-file consistency, and editing the reviewer registry by its text.
"""
