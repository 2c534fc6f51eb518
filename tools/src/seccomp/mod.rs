//! The seccomp compiler: `.src` policy text to `.bin2`/`.bin` programs.
