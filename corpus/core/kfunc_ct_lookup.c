// kfunc calls: bpf_skb_ct_lookup acquires a (maybe NULL) nf_conn reference,
// bpf_ct_release releases it after the NULL check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct nf_conn {
	unsigned long status;
};
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb_ctx, struct bpf_sock_tuple *bpf_tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

SEC("tc")
int kfunc_ct_lookup(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tup = {};
	struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = 6 };
	struct nf_conn *ct;

	ct = bpf_skb_ct_lookup(skb, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
	if (ct)
		bpf_ct_release(ct);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
