// sockops programs read bpf_sock_ops->op and may write ->reply.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("sockops")
int sock_ops_write_reply(struct bpf_sock_ops *skops)
{
	if (skops->op == BPF_SOCK_OPS_TIMEOUT_INIT)
		skops->reply = 10;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
