// .rodata is a read-only map for programs: writing cfg through a cast is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile int cfg = 1;

SEC("xdp")
int rodata_write(struct xdp_md *ctx)
{
	*(volatile int *)&cfg = 2;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
