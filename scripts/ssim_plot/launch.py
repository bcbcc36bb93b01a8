"""What the report scripts share before they import matplotlib (standard library only): one-line
failures, the matplotlib probe, and running again under Debian's python3, which sees
python3-matplotlib when a pyenv or venv python3 comes first on PATH."""
import importlib
import os
import sys

MATPLOTLIB_HINT = "figures need matplotlib: apt-get install python3-matplotlib"
DEBIAN_PYTHON = "/usr/bin/python3"


def fail(prog: str, message: str, code: int) -> int:
    """Prints `prog: message` as one line on stderr and returns `code`."""
    print(f"{prog}: {' '.join(message.split())}", file=sys.stderr)
    return code


def have_matplotlib() -> bool:
    try:
        importlib.import_module("matplotlib")
        importlib.import_module("numpy")
    except ImportError:
        return False
    return True


def rerun_with_debian_python(script: str, argv) -> None:
    """Replaces this process with /usr/bin/python3 running `script`, if that can help;
    SSIM_REPORT_NO_REEXEC=1 turns it off. Returns only when it did not."""
    if os.environ.get("SSIM_REPORT_NO_REEXEC"):
        return
    try:
        if not os.access(DEBIAN_PYTHON, os.X_OK):
            return
        if os.path.realpath(DEBIAN_PYTHON) == os.path.realpath(sys.executable):
            return
        env = dict(os.environ, SSIM_REPORT_NO_REEXEC="1")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(script)] + list(argv), env)
    except OSError:
        return  # fall through to the one-line hint
