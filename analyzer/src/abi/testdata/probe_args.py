# Run as root from this folder on the reference kernel. Checks each helper proto first argument / arity against the verifier log.
import re, ctypes, os, struct
exec(open('probe_ctx.py').read().split('combos = []')[0])
src=open('../helpers.rs').read()
table={}
for m in re.finditer(r'P::new\((\d+), "(\w+)", &\[([^\]]*)\], ([\w:]+)\)', src.split('static VARIANT')[0]):
    table[int(m.group(1))]=(m.group(2),[a.strip() for a in m.group(3).split(',') if a.strip()])
rows=[l.rstrip('\n').split('\t') for l in open('helper_probe.tsv')]
allowed={}
for pt,eat,st,ids in rows:
    if st!='ok': continue
    for x in ids.split(','):
        if x: allowed.setdefault(int(x),(int(pt),int(eat)))
for h,(name,args) in sorted(table.items()):
    if h not in allowed: print(h,name,'not probeable'); continue
    pt,eat=allowed[h]
    fd,log=load(pt,eat,I(0x85,0,0,0,h)+I(0xb7,0,0,0,0)+I(0x95,0,0,0,0), 16 if pt==31 else 0)
    lines=[l for l in log.split('\n') if l.strip()]
    msg=lines[-2] if len(lines)>=2 else ''
    m=re.match(r'R(\d) !read_ok',msg)
    first=args[0] if args else None
    verdict='?'
    if fd>=0 or 'processed' in msg and len(args)==0:
        verdict='ok' if len(args)==0 or first in ('PtrToCtx','PtrToCtxOrNull') and len(args)==1 else 'MISMATCH accepted'
    elif m:
        n=int(m.group(1))
        # R1 accepted (ctx), arity >= n
        verdict='ok' if len(args)>=n and first in ('PtrToCtx','PtrToCtxOrNull','Anything') else 'MISMATCH'
    elif 'R1 type=ctx expected=' in msg:
        exp=msg.split('expected=')[1]
        verdict='ok' if first not in ('PtrToCtx','PtrToCtxOrNull','Anything') else 'MISMATCH'
    else:
        verdict='other'
    if verdict!='ok': print(h,name,args,'|',msg[:150],'|',verdict)
