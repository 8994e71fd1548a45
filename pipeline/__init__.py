"""gongwen: GB/T 9704 公文 from drafts, numbered, sealed, signed, filed, searchable, archived."""

__version__ = "0.1.0"

# The instance's config file and the variable naming it (here, not in pipeline.config, so that the
# command line can name them without importing the config's validation).
DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "GONGWEN_CONFIG"
