// libbpf freezes .rodata, so the kernel knows cfg == 1 and never walks the branch that dereferences a scalar. An analyser that treats cfg as unknown rejects this program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile int cfg = 1;

SEC("xdp")
int rodata_dead_branch(struct xdp_md *ctx)
{
	if (cfg == 0)
		return *(int *)(long)ctx->ingress_ifindex;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
