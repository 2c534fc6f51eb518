#!/usr/bin/env python3
"""Times commands interleaved: each round runs every command once, in a new
random order, so a busy spell of a shared machine falls on all of them alike
rather than on whichever hyperfine was timing then. Each command's prepare
step runs just before it and is not timed. Failed runs are counted, not
timed (a launch that fails early is not a launch).

    interleave.py OUT.json ROUNDS NAME PREPARE COMMAND [NAME PREPARE COMMAND ...]

PREPARE and COMMAND are shell-quoted strings; PREPARE may be "true".
Writes {NAME: {"times": [seconds, ...], "failures": N}} to OUT.json."""

import json
import os
import random
import shlex
import sys
import time


def spawn(argv):
    """Runs argv with its output thrown away; returns (seconds, exit status)."""
    actions = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    return time.perf_counter() - start, os.waitstatus_to_exitcode(status)


def main():
    if len(sys.argv) < 6 or (len(sys.argv) - 3) % 3:
        sys.exit(__doc__)
    out, rounds = sys.argv[1], int(sys.argv[2])
    rest = sys.argv[3:]
    commands = [(rest[i], shlex.split(rest[i + 1]), shlex.split(rest[i + 2])) for i in range(0, len(rest), 3)]
    results = {name: {"times": [], "failures": 0} for name, _, _ in commands}
    for _ in range(rounds):
        random.shuffle(commands)
        for name, prepare, command in commands:
            _, status = spawn(prepare)
            if status != 0:
                sys.exit(f"cannot prepare {name}: {shlex.join(prepare)} exited with {status}")
            seconds, status = spawn(command)
            if status == 0:
                results[name]["times"].append(seconds)
            else:
                results[name]["failures"] += 1
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
