//! Reading AppArmor and seccomp audit records and explaining them.
