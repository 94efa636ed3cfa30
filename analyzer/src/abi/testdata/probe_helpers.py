# Run as root: python3 probe_helpers.py helper_probe.tsv
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_bpf = 321
class Attr(ctypes.Structure):
    _fields_ = [("prog_type",ctypes.c_uint32),("insn_cnt",ctypes.c_uint32),("insns",ctypes.c_uint64),
      ("license",ctypes.c_uint64),("log_level",ctypes.c_uint32),("log_size",ctypes.c_uint32),("log_buf",ctypes.c_uint64),
      ("kern_version",ctypes.c_uint32),("prog_flags",ctypes.c_uint32),("prog_name",ctypes.c_char*16),
      ("prog_ifindex",ctypes.c_uint32),("expected_attach_type",ctypes.c_uint32),("pad",ctypes.c_char*128)]
lic = ctypes.create_string_buffer(b"GPL")
logbuf = ctypes.create_string_buffer(1<<16)
def load(pt, helper, eat=0, flags=0):
    insns = struct.pack("<BBhi", 0x85, 0, 0, helper) + struct.pack("<BBhi", 0xb7, 0, 0, 0) + struct.pack("<BBhi", 0x95,0,0,0)
    buf = ctypes.create_string_buffer(insns, len(insns))
    a = Attr(); a.prog_type=pt; a.insn_cnt=3; a.insns=ctypes.addressof(buf); a.license=ctypes.addressof(lic)
    a.log_level=1; a.log_size=1<<16; a.log_buf=ctypes.addressof(logbuf); a.expected_attach_type=eat; a.prog_flags=flags
    logbuf[0]=b'\0'
    fd = libc.syscall(SYS_bpf, 5, ctypes.byref(a), ctypes.sizeof(a))
    err = ctypes.get_errno()
    if fd >= 0: os.close(fd)
    return fd, err, logbuf.value.decode(errors='replace')
# (prog_type, attach) combos
combos = []
for pt in range(1, 33):
    if pt in (26,27,28,29): continue
    if pt == 9: eats = [2, 34, 12, 13]
    elif pt == 18: eats = [8,9,10,11,14,15,19,20,29,30,31,32] + [46,47,48,49,50,51]
    elif pt == 25: eats = [21,22]
    elif pt == 8: eats = [0,1]
    elif pt == 30: eats = [36]
    elif pt == 32: eats = [45]
    elif pt == 14: eats = [4,5]
    else: eats = [0]
    combos += [(pt,e) for e in eats]
out = open(sys.argv[1], "w")
other = {}
for pt, eat in combos:
    allowed = []
    status = "ok"
    for h in range(1, 213):
        fd, err, log = load(pt, h, eat)
        if fd < 0 and (not log or "only be sleepable" in log):
            fd2, err2, log2 = load(pt, h, eat, flags=1<<4)  # BPF_F_SLEEPABLE
            if log2: fd, err, log = fd2, err2, log2
        if fd < 0 and not log:
            status = "noload errno=%d" % err; break
        if "cannot use helper" in log or "unknown func" in log or "invalid func" in log:
            continue
        last = [l for l in log.strip().split("\n") if l][-3:] if log else ["<accepted>"]
        other.setdefault(" | ".join(last)[:150], 0); other[" | ".join(last)[:150]] += 1
        allowed.append(h)
    out.write("%d\t%d\t%s\t%s\n" % (pt, eat, status, ",".join(map(str, allowed))))
    out.flush()
for k, v in sorted(other.items(), key=lambda x: -x[1])[:40]: print(v, k, file=sys.stderr)
