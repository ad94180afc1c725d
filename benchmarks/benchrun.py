"""What the compare_*.py scripts share: running one side of a comparison and reading its JSON."""
import json
import shlex
import subprocess
import sys


def run_json(command, env=None):
    """Runs `command` and returns the JSON object on the last line of its output. If the command fails or prints
    no JSON, exits with a message that names the command and shows the end of what it wrote to stderr (a missing
    Python package on the reference side, a wrong --skilltune path), instead of a bare traceback."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    except OSError as error:
        sys.exit(f"could not run {shlex.join(command)}: {error}")
    lines = done.stdout.strip().splitlines()
    if done.returncode == 0 and lines:
        try:
            return json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
    tail = "\n".join(done.stderr.strip().splitlines()[-15:]) or "(nothing on stderr)"
    what = f"exit status {done.returncode}" if done.returncode else "no JSON object on its last line of output"
    sys.exit(f"{shlex.join(command)} failed ({what}):\n{tail}")
