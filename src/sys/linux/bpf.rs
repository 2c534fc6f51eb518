//! bpf(2): the maps and the device cgroup program of cgroup v2.

use crate::error::{Context, Error, Result};
use crate::sys::{BpfInsn, BpfMapSpec, BpfProgSpec};
use nix::errno::Errno;
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

// bpf(2): commands, and the parts of `union bpf_attr` each command reads.
// The kernel copies `size_of` bytes and treats the rest of its union as
// zero, so each struct holds only the fields its command uses.
const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_MAP_DELETE_ELEM: libc::c_long = 3;
const BPF_MAP_GET_NEXT_KEY: libc::c_long = 4;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_OBJ_PIN: libc::c_long = 6;
const BPF_OBJ_GET: libc::c_long = 7;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_ANY: u64 = 0;
const BPF_OBJ_NAME_LEN: usize = 16;
/// The size of the verifier log asked for when a load fails.
const VERIFIER_LOG_SIZE: usize = 32 * 1024;

#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; BPF_OBJ_NAME_LEN],
    map_ifindex: u32,
}

#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    /// The value (update) or the next key (get next key).
    value: u64,
    flags: u64,
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; BPF_OBJ_NAME_LEN],
}

#[repr(C)]
#[derive(Default)]
struct ObjAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}

#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

/// `struct bpf_insn`: the two register numbers share one byte, destination
/// in the low nibble (x86_64 and every little-endian target).
#[repr(C)]
struct RawInsn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

/// Calls bpf(2) with `attr`, returning what the kernel returned (a new
/// descriptor or 0).
fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::result::Result<libc::c_long, Errno> {
    let size = std::mem::size_of::<T>();
    let ptr: *mut T = attr;
    // SAFETY: `attr` is a live, exclusively borrowed #[repr(C)] value of
    // `size` bytes laid out as the command's part of `union bpf_attr`; every
    // address inside it points at memory that outlives the call, and the
    // kernel writes back at most `size` bytes.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, ptr, size) };
    Errno::result(r)
}

/// Takes ownership of a descriptor bpf(2) just returned.
fn bpf_fd(r: libc::c_long) -> std::result::Result<OwnedFd, Errno> {
    let raw = i32::try_from(r).map_err(|_| Errno::EBADF)?;
    if raw < 0 {
        return Err(Errno::EBADF);
    }
    // SAFETY: the kernel just created descriptor `raw` for this call and
    // nothing else refers to it: ownership passes to the OwnedFd.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn object_name(name: &str) -> [u8; BPF_OBJ_NAME_LEN] {
    let mut out = [0u8; BPF_OBJ_NAME_LEN];
    for (o, b) in out.iter_mut().zip(name.bytes().take(BPF_OBJ_NAME_LEN - 1)) {
        *o = b;
    }
    out
}

fn fd_u32(fd: BorrowedFd<'_>) -> u32 {
    u32::try_from(fd.as_raw_fd()).unwrap_or(u32::MAX)
}

/// `/proc/self/fd/<dir>/<name>`: a path the kernel resolves through the
/// open directory, so what was checked is what is used.
fn path_under(dir: BorrowedFd<'_>, name: &str) -> std::result::Result<CString, Errno> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(Errno::EINVAL);
    }
    CString::new(format!("/proc/self/fd/{}/{name}", dir.as_raw_fd())).map_err(|_| Errno::EINVAL)
}

fn map_elem_attr(map: BorrowedFd<'_>, key: Option<&[u8]>, value: u64) -> MapElemAttr {
    MapElemAttr { map_fd: fd_u32(map), key: key.map_or(0, |k| k.as_ptr() as u64), value, ..MapElemAttr::default() }
}

pub(super) fn bpf_map_create(spec: &BpfMapSpec) -> Result<OwnedFd> {
    let mut attr = MapCreateAttr {
        map_type: spec.map_type,
        key_size: spec.key_size,
        value_size: spec.value_size,
        max_entries: spec.max_entries,
        map_name: object_name(&spec.name),
        ..MapCreateAttr::default()
    };
    bpf(BPF_MAP_CREATE, &mut attr).and_then(bpf_fd).context(|| format!("create the BPF map {}", spec.name))
}

pub(super) fn bpf_obj_pin(obj: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &str) -> std::result::Result<(), Errno> {
    let path = path_under(dir, name)?;
    let mut attr = ObjAttr { pathname: path.as_ptr() as u64, bpf_fd: fd_u32(obj), file_flags: 0 };
    bpf(BPF_OBJ_PIN, &mut attr).map(drop)
}

pub(super) fn bpf_obj_get(dir: BorrowedFd<'_>, name: &str) -> std::result::Result<OwnedFd, Errno> {
    let path = path_under(dir, name)?;
    let mut attr = ObjAttr { pathname: path.as_ptr() as u64, ..ObjAttr::default() };
    bpf(BPF_OBJ_GET, &mut attr).and_then(bpf_fd)
}

pub(super) fn bpf_map_update(map: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> Result<()> {
    let mut attr = map_elem_attr(map, Some(key), value.as_ptr() as u64);
    attr.flags = BPF_ANY;
    bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(drop).context(|| "update a BPF map")
}

pub(super) fn bpf_map_delete(map: BorrowedFd<'_>, key: &[u8]) -> std::result::Result<(), Errno> {
    let mut attr = map_elem_attr(map, Some(key), 0);
    bpf(BPF_MAP_DELETE_ELEM, &mut attr).map(drop)
}

pub(super) fn bpf_map_next_key(map: BorrowedFd<'_>, key: Option<&[u8]>, key_size: usize) -> Result<Option<Vec<u8>>> {
    if key.is_some_and(|k| k.len() != key_size) {
        return Err(Error::because("list a BPF map", "a key has the wrong size"));
    }
    let mut next = vec![0u8; key_size];
    let mut attr = map_elem_attr(map, key, next.as_mut_ptr() as u64);
    match bpf(BPF_MAP_GET_NEXT_KEY, &mut attr) {
        Ok(_) => Ok(Some(next)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(Error::errno("list a BPF map", e)),
    }
}

pub(super) fn bpf_prog_load(spec: &BpfProgSpec) -> Result<OwnedFd> {
    let insns: Vec<RawInsn> = spec
        .insns
        .iter()
        .map(|i: &BpfInsn| RawInsn { code: i.code, regs: (i.dst & 0x0f) | (i.src << 4), off: i.off, imm: i.imm })
        .collect();
    let what = || format!("load the BPF program {}", spec.name);
    let count = u32::try_from(insns.len()).map_err(|_| Error::because(what(), "it is too long"))?;
    let license = CString::new(spec.license.as_str()).map_err(|_| Error::because(what(), "odd license"))?;
    let attr = |log: &mut Vec<u8>| ProgLoadAttr {
        prog_type: spec.prog_type,
        insn_cnt: count,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: u32::from(!log.is_empty()),
        log_size: u32::try_from(log.len()).unwrap_or(0),
        log_buf: if log.is_empty() { 0 } else { log.as_mut_ptr() as u64 },
        prog_name: object_name(&spec.name),
        ..ProgLoadAttr::default()
    };
    let mut no_log = Vec::new();
    let first = bpf(BPF_PROG_LOAD, &mut attr(&mut no_log)).and_then(bpf_fd);
    let Err(errno) = first else { return first.context(what) };
    // Again with a verifier log, to say why.
    let mut log = vec![0u8; VERIFIER_LOG_SIZE];
    match bpf(BPF_PROG_LOAD, &mut attr(&mut log)).and_then(bpf_fd) {
        Ok(fd) => Ok(fd),
        Err(_) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(log.get(..end).unwrap_or(&[])).trim_end().to_string();
            if text.is_empty() {
                Err(Error::errno(what(), errno))
            } else {
                Err(Error::because(what(), format!("{}; verifier output:\n{text}", errno.desc())))
            }
        }
    }
}

pub(super) fn bpf_prog_attach_device(prog: BorrowedFd<'_>, cgroup: BorrowedFd<'_>) -> Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: fd_u32(cgroup),
        attach_bpf_fd: fd_u32(prog),
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: 0,
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map(drop).context(|| "attach the device cgroup program")
}
