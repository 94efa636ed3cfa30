#include "common.h"

/* tp_btf: kernel objects are read-only to tracing programs. */
SEC("tp_btf/kfree_skb")
int tp_btf_write_field(unsigned long long *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx[0];

	skb->mark = 1;
	return 0;
}

char _license[] SEC("license") = "GPL";
