# AppArmor profile {{PROFILE}}, written by confine from its strict template
# and the snippets of the snap's connected interfaces. It is regenerated
# whenever the snap or its connections change: do not edit it.
#include <tunables/global>

{{VARIABLES}}

profile "{{PROFILE}}" flags=({{FLAGS}}) {
  #include <abstractions/base>
  #include <abstractions/consoles>
  #include <abstractions/openssl>

  # ---- What most programs read at start-up, beyond abstractions/base.
  /etc/ld.so.preload r,
  /etc/sysconfig/clock r,
  owner @{PROC}/@{pid}/maps k,
  owner @{PROC}/@{pid}/map_files/ r,
  /usr/share/terminfo/** k,
  /usr/share/zoneinfo/** k,
  /etc/{localtime,timezone} r,
  /etc/{os-release,lsb-release,debian_version} r,
  /usr/lib/os-release r,
  /etc/{bash.bashrc,inputrc,environment,profile} r,
  /etc/profile.d/{,*} r,
  /etc/{passwd,group,nsswitch.conf} r,
  /etc/default/nss r,
  /var/lib/extrausers/{passwd,group} r,
  /run/systemd/users/[0-9]* r,
  /etc/libnl-3/{classid,pktloc} r,

  # ---- Interpreters snaps commonly ship or use.
  #include <abstractions/python>
  /etc/python3.[0-9]*/** r,
  #include <abstractions/perl>
  /usr/lib/@{multiarch}/perl{,5,-base}/** mr,
  /usr/lib/@{multiarch}/perl{,5,-base}/[0-9]*/** mr,
  # Byte code is never written next to read-only code.
  deny @{INSTALL_DIR}/{@{SNAP_NAME},@{SNAP_INSTANCE_NAME}}/**/__pycache__/ w,
  deny @{INSTALL_DIR}/{@{SNAP_NAME},@{SNAP_INSTANCE_NAME}}/**/__pycache__/** w,
  deny /usr/lib/python3*/{,**/}__pycache__/ w,
  deny /usr/lib/python3*/{,**/}__pycache__/** w,

  # ---- Shells and everyday command line tools, run inside this profile.
  /{,usr/}bin/{sh,bash,dash,rbash} ixr,
  /{,usr/}bin/{arch,awk,b2sum,base32,base64,basename,bzip2,bunzip2,cat,chgrp,chmod,chown,cksum,clear,cmp,comm,cp,cpio,csplit,cut,date,dd,diff,dir,dircolors,dirname,du,echo,egrep,env,expand,expr,factor,false,fgrep,find,flock,fmt,fold,gawk,getconf,getent,getopt,grep,groups,gunzip,gzip,head,hostname,id,install,join,kill,less,link,ln,locale,logger,logname,ls,lsb_release,mawk,md5sum,mkdir,mkfifo,mknod,mktemp,more,mv,nice,nl,nohup,nproc,numfmt,od,paste,pathchk,pgrep,pidof,pr,printenv,printf,ps,ptx,pwd,readlink,realpath,rm,rmdir,sed,seq,sha1sum,sha224sum,sha256sum,sha384sum,sha512sum,shred,shuf,sleep,sort,split,stat,stdbuf,stty,sum,sync,systemd-cat,tac,tail,tar,tee,test,timeout,touch,tr,true,truncate,tsort,tty,uname,unexpand,uniq,unlink,unxz,unzip,uptime,users,vdir,wc,which,who,whoami,xargs,xz,xzcat,yes,zcat,zip} ixr,
  /{,usr/}bin/python3{,.[0-9]*} ixr,
  /{,usr/}bin/perl{,5*} ixr,
  /{,usr/}bin/openssl ixr,
  /{,usr/}lib{,32,64}/{,@{multiarch}/}ld-*.so* mrix,

  # ---- The snap itself: its files (all revisions) read-only, its data
  # ---- writable for the current revision and in "common" only.
  @{INSTALL_DIR}/{@{SNAP_NAME},@{SNAP_INSTANCE_NAME}}/ r,
  @{INSTALL_DIR}/{@{SNAP_NAME},@{SNAP_INSTANCE_NAME}}/** mrkix,
  /var/snap/{@{SNAP_NAME},@{SNAP_INSTANCE_NAME}}/ r,
  /var/snap/{@{SNAP_NAME},@{SNAP_INSTANCE_NAME}}/** mrkix,
  /var/snap/{@{SNAP_NAME},@{SNAP_INSTANCE_NAME}}/@{SNAP_REVISION}/** wl,
  /var/snap/{@{SNAP_NAME},@{SNAP_INSTANCE_NAME}}/common/** wl,
  owner @{HOME}/snap/@{SNAP_INSTANCE_NAME}/ r,
  owner @{HOME}/snap/@{SNAP_INSTANCE_NAME}/** mrkix,
  owner @{HOME}/snap/@{SNAP_INSTANCE_NAME}/@{SNAP_REVISION}/** wl,
  owner @{HOME}/snap/@{SNAP_INSTANCE_NAME}/common/** wl,

  # ---- Scratch space: /tmp (private to the snap in its sandbox), shared
  # ---- memory and runtime files named after the snap.
  /tmp/ r,
  /tmp/** mrwlkix,
  /{dev,run}/shm/snap.@{SNAP_INSTANCE_NAME}.** mrwlkix,
  /{dev,run}/shm/sem.snap.@{SNAP_INSTANCE_NAME}.* mrwlk,
  owner /run/user/[0-9]*/snap.@{SNAP_INSTANCE_NAME}/ rw,
  owner /run/user/[0-9]*/snap.@{SNAP_INSTANCE_NAME}/** mrwklix,
  /run/snap.@{SNAP_INSTANCE_NAME}/ rw,
  /run/snap.@{SNAP_INSTANCE_NAME}/** mrwklix,
  /run/lock/snap.@{SNAP_INSTANCE_NAME}/ rw,
  /run/lock/snap.@{SNAP_INSTANCE_NAME}/** mrwklix,

  # ---- Logging to the journal.
  /run/systemd/journal/socket w,
  /run/systemd/journal/stdout rw,
  /run/systemd/journal/dev-log w,
  /dev/log w,

  # ---- Information about this process and harmless system facts.
  owner @{PROC}/@{pid}/{,task/@{tid}/}{cmdline,comm,stat,statm,status,limits,loginuid,sessionid,auxv,environ,sched,schedstat,io} r,
  owner @{PROC}/@{pid}/{,task/@{tid}/}comm w,
  owner @{PROC}/@{pid}/cgroup rk,
  owner @{PROC}/@{pid}/{fd,task}/ r,
  owner @{PROC}/@{pid}/{,task/@{tid}/}fd/[0-9]* rw,
  owner @{PROC}/@{pid}/attr/{,apparmor/}current r,
  @{PROC}/{uptime,loadavg,version,version_signature} r,
  @{PROC}/sys/kernel/{hostname,domainname,osrelease,ostype,version,pid_max,cap_last_cap,ngroups_max} r,
  @{PROC}/sys/kernel/yama/ptrace_scope r,
  @{PROC}/sys/kernel/random/{boot_id,entropy_avail,uuid} r,
  @{PROC}/sys/vm/overcommit_memory r,
  @{PROC}/sys/fs/file-max r,
  @{PROC}/sys/fs/inotify/max_* r,
  /sys/devices/system/cpu/ r,
  /sys/devices/system/cpu/** r,
  /sys/devices/system/node/ r,
  /sys/kernel/mm/transparent_hugepage/hpage_pmd_size r,
  /sys/fs/cgroup/{,unified/}{,**/}snap.@{SNAP_INSTANCE_NAME}{,.*}{,/**}/{cpu,memory}.{max,current,high,low,min,weight,stat} r,
  /dev/{,u}random w,
  /run/uuidd/request rw,

  # ---- Listing directories reveals nothing the files would not.
  / r,
  @{HOMEDIRS}/ r,
  /dev/ r,
  /dev/**/ r,
  /sys/class/ r,
  /sys/bus/ r,

  # ---- Each app has its own devpts instance in its sandbox.
  /dev/ptmx rw,

  # ---- Working around map_hugetlb file names (AppArmor issue 571).
  allow file / rwm,

  # ---- Talking within the snap: abstract sockets named after it, Unix
  # ---- sockets and D-Bus messages between its own apps and hooks.
  unix (bind, listen) addr="@snap.@{SNAP_INSTANCE_NAME}.**",
  unix peer=(label=snap.@{SNAP_INSTANCE_NAME}.*),
  dbus (receive, send) peer=(label=snap.@{SNAP_INSTANCE_NAME}.*),
  # Standard streams inherited from other snaps' apps (unnamed sockets).
  unix (send, receive) addr=none peer=(addr=none, label="snap.*"),

  # ---- Signals: among the snap's own apps and hooks; received from any
  # ---- snap and from unconfined processes (the admin, the service
  # ---- manager). Sending anywhere else needs an interface.
  signal peer=snap.@{SNAP_INSTANCE_NAME}.*,
  signal (receive) peer=snap.*,
  signal (receive) peer=unconfined,

  capability ipc_lock,
  capability sys_chroot,

  # ---- Connected interfaces.
{{SNIPPETS}}
}
