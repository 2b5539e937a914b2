"""libvirtError, and how Siphon's error classes map onto libvirt's error numbers."""

from . import constants as c

# The daemon's error class (docs/protocol.md) -> the VIR_ERR_* libvirt's own drivers raise
# for the same failure. docs/python.md carries this table for people.
ERROR_CLASSES = {
    "NO_DOMAIN": c.VIR_ERR_NO_DOMAIN,
    "DOMAIN_EXISTS": c.VIR_ERR_DOM_EXIST,
    # libvirt: "invalid argument: disk 'vdz' not found in domain"
    "NO_DISK": c.VIR_ERR_INVALID_ARG,
    # libvirt: "disk vda does not have an active block job" / "already in active block job"
    "NO_JOB": c.VIR_ERR_OPERATION_INVALID,
    "JOB_EXISTS": c.VIR_ERR_OPERATION_INVALID,
    # libvirt: "operation forbidden: read only access prevents ..."
    "READ_ONLY": c.VIR_ERR_OPERATION_DENIED,
    "INVALID_ARG": c.VIR_ERR_INVALID_ARG,
    "OPERATION_INVALID": c.VIR_ERR_OPERATION_INVALID,
    "OPERATION_FAILED": c.VIR_ERR_OPERATION_FAILED,
    "NO_SUPPORT": c.VIR_ERR_NO_SUPPORT,
    "CONNECTION_FAILED": c.VIR_ERR_SYSTEM_ERROR,
    "PROTOCOL_ERROR": c.VIR_ERR_RPC,
    "UNKNOWN_COMMAND": c.VIR_ERR_NO_SUPPORT,
    "INTERNAL_ERROR": c.VIR_ERR_INTERNAL_ERROR,
}


def _err_field(index: int, what: str):
    """A getter of libvirt's error tuple's field ``index``, None when there is no tuple."""

    def getter(self):
        return None if self.err is None else self.err[index]

    getter.__doc__ = "%s, or None without an error tuple" % what
    return getter


class libvirtError(Exception):
    """A failed call, as libvirt-python's: str() is the message; get_error_code() a VIR_ERR_* number."""

    def __init__(self, defmsg: str) -> None:
        Exception.__init__(self, defmsg)
        # libvirt's error tuple: (code, domain, message, level, str1, str2, str3, int1, int2)
        self.err = None
        # the daemon's error class (e.g. "NO_JOB"), or None for an error raised by this binding
        self.siphon_class = None

    get_error_code = _err_field(0, "The VIR_ERR_* number")
    get_error_domain = _err_field(1, "The VIR_FROM_* part that reported it")
    get_error_message = _err_field(2, "The message")
    get_error_level = _err_field(3, "The level: VIR_ERR_ERROR")
    get_str1 = _err_field(4, "Extra text (None here)")
    get_str2 = _err_field(5, "Extra text (None here)")
    get_str3 = _err_field(6, "Extra text (None here)")
    get_int1 = _err_field(7, "An extra number (0 here)")
    get_int2 = _err_field(8, "An extra number (0 here)")


def error(code: int, message: str, siphon_class: str | None = None) -> libvirtError:
    """A libvirtError with number ``code`` and ``message``, reported from the remote driver."""
    failure = libvirtError(message)
    failure.err = (code, c.VIR_FROM_REMOTE, message, c.VIR_ERR_ERROR, None, None, None, 0, 0)
    failure.siphon_class = siphon_class
    return failure


def from_reply(error_class: str, desc: str) -> libvirtError:
    """The libvirtError for the daemon's ``{"error": {"class", "desc"}}``; an unknown class is internal."""
    return error(ERROR_CLASSES.get(error_class, c.VIR_ERR_INTERNAL_ERROR), desc, error_class)


def unsupported_flags(flags: int, function: str) -> libvirtError:
    """libvirt's refusal of flags a call does not know."""
    return error(c.VIR_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s" % (flags, function))
