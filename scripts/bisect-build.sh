#!/bin/bash
# coldmark bisect's --build PROGRAM for a repository of the bundled guest's source
# (scripts/bisect-repo.sh): PROGRAM WORKTREE BUILDDIR, COLDMARK_REV in the environment.
# A revision that does not assemble cannot be tested: exit 125, git bisect run's convention.
set -u
echo "building $COLDMARK_REV"
nasm -f bin -o "$2/guest.img" "$1/guest.asm" || exit 125
