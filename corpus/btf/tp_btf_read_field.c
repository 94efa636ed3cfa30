#include "common.h"

/* tp_btf: argument 0 of kfree_skb is a trusted struct sk_buff *; reading a field is fine. */
SEC("tp_btf/kfree_skb")
int tp_btf_read_field(unsigned long long *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx[0];

	return skb->len > 100;
}

char _license[] SEC("license") = "GPL";
