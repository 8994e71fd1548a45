"""gongwen: GB/T 9704 公文 from drafts, numbered, sealed, signed, filed, searchable, archived."""

__version__ = "0.1.0"
