// Spins while a ctx field is non-zero: nothing in the loop changes the state, so it never ends
// when it is entered (the kernel: infinite loop detected; Z3: a recurrent state).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int spin_on_ctx(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;

	while (q != 0)
		asm volatile("" : "+r"(q));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
