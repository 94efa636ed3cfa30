# Run as root: python3 probe_ctx.py ctxprobe.tsv  (raw output; ctx_probe.tsv is its compacted form).
import ctypes, os, struct, sys, re
libc = ctypes.CDLL(None, use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [("prog_type",ctypes.c_uint32),("insn_cnt",ctypes.c_uint32),("insns",ctypes.c_uint64),
      ("license",ctypes.c_uint64),("log_level",ctypes.c_uint32),("log_size",ctypes.c_uint32),("log_buf",ctypes.c_uint64),
      ("kern_version",ctypes.c_uint32),("prog_flags",ctypes.c_uint32),("prog_name",ctypes.c_char*16),
      ("prog_ifindex",ctypes.c_uint32),("expected_attach_type",ctypes.c_uint32),("pad",ctypes.c_char*128)]
lic = ctypes.create_string_buffer(b"GPL")
logbuf = ctypes.create_string_buffer(1<<16)
def I(op, dst, src, off, imm): return struct.pack("<BBhi", op, dst | (src<<4), off, imm)
SZ = {1:0x10, 2:0x08, 4:0x00, 8:0x18}
def load(pt, eat, insns, flags=0):
    buf = ctypes.create_string_buffer(insns, len(insns))
    a = Attr(); a.prog_type=pt; a.insn_cnt=len(insns)//8; a.insns=ctypes.addressof(buf); a.license=ctypes.addressof(lic)
    a.log_level=2; a.log_size=1<<16; a.log_buf=ctypes.addressof(logbuf); a.expected_attach_type=eat; a.prog_flags=flags
    logbuf[0]=b'\0'
    fd = libc.syscall(321, 5, ctypes.byref(a), ctypes.sizeof(a))
    if fd >= 0: os.close(fd)
    return fd, logbuf.value.decode(errors='replace')
combos = []
for pt in range(1, 33):
    if pt in (20,26,27,28,29): continue
    if pt == 9: eats = [2, 34, 12, 13]
    elif pt == 18: eats = [8,9,10,11,14,15,19,20,29,30,31,32]
    elif pt == 25: eats = [21,22]
    elif pt == 8: eats = [0,1]
    elif pt == 30: eats = [36]
    elif pt == 32: eats = [45]
    elif pt == 14: eats = [4,5]
    else: eats = [0]
    combos += [(pt,e) for e in eats]
out = open(sys.argv[1], "w")
msgs = {}
for pt, eat in combos:
    flags = 1<<4 if pt == 31 else 0
    for write in (0, 1):
        for size in (1,2,4,8):
            for off in range(-8, 232):
                if write:
                    body = I(0xb7,2,0,0,0) + I(0x63|SZ[size],1,2,off,0)
                else:
                    body = I(0x61|SZ[size],0,1,off,0)
                prog = body + I(0xb7,0,0,0,1) + I(0x95,0,0,0,0)
                fd, log = load(pt, eat, prog, flags)
                if fd < 0:
                    lines=[l for l in log.split("\n") if l.strip()]
                    m = lines[-2] if len(lines)>=2 else "<nolog>"
                    m = re.sub(r"-?\d+", "N", m)
                    msgs[m] = msgs.get(m,0)+1
                    if "R0 has" in m or "ctx access" in m or "context access" in m: pass
                    else: out.write("%d\t%d\t%d\t%d\t%d\tERR %s\n" % (pt,eat,write,size,off,lines[-2] if len(lines)>=2 else "?"))
                    continue
                kind = ""
                if not write:
                    m = re.search(r"; R0_?w?=([a-z_]+)", log)
                    kind = m.group(1) if m else "?"
                    m2 = re.search(r"; R0_?w?=scalar\(([^)]*)\)", log)
                    if m2: kind += "(" + m2.group(1) + ")"
                out.write("%d\t%d\t%d\t%d\t%d\tOK %s\n" % (pt,eat,write,size,off,kind))
    out.flush()
for k, v in sorted(msgs.items(), key=lambda x: -x[1])[:30]: print(v, k, file=sys.stderr)
