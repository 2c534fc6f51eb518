# confine-snapd: `snap run` from login shells does not re-execute into the
# snapd snap, whose own snap-confine would then be used.
SNAP_REEXEC=0
export SNAP_REEXEC
