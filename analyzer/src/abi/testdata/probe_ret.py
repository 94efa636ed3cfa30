# Run as root from this folder: python3 probe_ret.py  (exit-code ranges per program/attach type).
exec(open('probe_ctx.py').read().split('combos = []')[0])
combos=[]
for pt in range(1, 33):
    if pt in (20,26,27,28,29): continue
    eats = {9:[2,34,12,13],18:[8,9,10,11,14,15,19,20,29,30,31,32],25:[21,22],8:[0,1],30:[36],32:[45],14:[4,5]}.get(pt,[0])
    combos += [(pt,e) for e in eats]
for pt,eat in combos:
    ok=[]
    for k in (-1,0,1,2,3,4,1000):
        fd,log=load(pt,eat,I(0xb7,0,0,0,k)+I(0x95,0,0,0,0), 1<<4 if pt==31 else 0)
        if fd>=0: ok.append(k)
        else: msg=[l for l in log.split("\n") if l.strip()][-2]
    print(pt,eat,ok, msg if len(ok)<7 else "")
