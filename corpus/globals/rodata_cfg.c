// Branches on a `const volatile` config constant in .rodata.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile int cfg = 1;

SEC("xdp")
int rodata_cfg(struct xdp_md *ctx)
{
	if (cfg)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
