# Test profile for the app snap.demo.app: it may run the probe and a few
# binaries and read what the probe reports on; everything else (for example
# /etc/hostname) is denied and logged.
abi <abi/3.0>,
#include <tunables/global>

profile snap.demo.app flags=(attach_disconnected) {
  #include <abstractions/base>
  /usr/lib/confine/confine-probe mrix,
  /{usr/,}bin/{true,echo,cat,sh,bash,dash,id} mrix,
  @{PROC}/@{pid}/{status,attr/{,apparmor/}current,fd/,ns/} r,
  @{PROC}/@{pid}/fd/* r,
  /etc/os-release r,
  /usr/lib/os-release r,
  /var/lib/snapd/void/ r,
  / r,
  owner /tmp/** rw,
  /tmp/ r,
}
