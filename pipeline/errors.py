"""Domain errors. Only cli.py turns them into messages and exit codes."""


class GongwenError(Exception):
    """Base for every error gongwen reports to a person (message already readable).

    ``option`` names the input that was missing or wrong (``note``, ``reason`` …) when there is one:
    the command line adds its flag (「（--note）」), a web form marks its field; the message itself
    says it in words, whichever front end shows it."""

    exit_code = 1
    option: str | None = None

    def __init__(self, *args, option: str | None = None):
        super().__init__(*args)
        if option is not None:
            self.option = option


class ConfigError(GongwenError):
    """config.yaml is missing, malformed or inconsistent."""

    exit_code = 2


class DraftError(GongwenError):
    """A draft cannot be read at all (not a valid file of its type)."""


class TemplateError(GongwenError):
    """A .docx template is broken (bad tag) or rendering left something behind."""


class LedgerError(GongwenError):
    """The register refuses an operation (unknown number, already voided, …) or cannot be used."""


class NumberRefused(LedgerError):
    """The register will not number this draft because of the draft itself (its series, its date, the
    文号 it names): the draft goes back to the clerk with the reason."""


class RegisterUnavailable(LedgerError):
    """The register cannot be used just now (its write lock held beyond the wait, the disk full, an
    I/O error): nothing is wrong with the draft; it is kept and tried again."""


class ConversionError(GongwenError):
    """LibreOffice is missing, hung or crashed; the document can be resumed."""


class SigningError(GongwenError):
    """The certificate is missing, the passphrase wrong, or signing failed."""


class ArchiveError(GongwenError):
    """Filing or reading the archive failed."""


class SearchError(GongwenError):
    """The search index is unusable or a query is malformed."""


class IncomingError(GongwenError):
    """A received document (收文) cannot be read or handled as asked."""
class SupervisionError(GongwenError):
    """A 督办 operation is refused: an unknown item, 销号 without a 办结说明, a state it cannot
    leave."""
