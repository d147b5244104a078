"""Stand-in for the pip bootstrap script ansible-test downloads from a host outside the package
registries. ansible-test runs it as `python get_pip_X_Y.py [pip install options] pip==X.Y ...` in
an empty venv; this does the same with the interpreter's bundled pip (ensurepip) and the pip
configuration of the machine. scripts/sanity copies it to ~/.ansible/test/cache/get_pip_X_Y.py for
the pip version ansible-test pins."""

import subprocess
import sys

# get-pip's own options, which pip install does not know
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
# In a subprocess: ensurepip.bootstrap() in this process would set PIP_CONFIG_FILE=/dev/null for
# everything started after it, and the second pip would lose the machine's index and CA settings.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
